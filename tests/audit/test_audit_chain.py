"""The access journal: what is recorded, without personal data; a rewritten or deleted row is found."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from audit.models import AccessEvent
from audit.services import audit_verify_chain
from tests.audit.attacker import TABLE, database_owner, sql

pytestmark = pytest.mark.django_db


def actions():
    return list(AccessEvent.objects.order_by("id").values_list("action", flat=True))


def test_transitions_views_and_grants_are_journaled(api, users, make_referral):
    referral = make_referral("received")
    recorded = actions()
    assert "referral.create" in recorded and "referral.submit" in recorded and "referral.acknowledge" in recorded
    grant = AccessEvent.objects.filter(action="grant", object_id=str(referral.pk))
    assert grant.filter(detail__startswith="view_referral→group:").exists()
    assert AccessEvent.objects.filter(action="revoke", detail__startswith="change_referral→user:").exists()

    api(users["coord_sud"]).get(f"/api/v1/referrals/{referral.pk}/")
    view = AccessEvent.objects.get(action="referral.view")
    assert (view.actor, view.object_type, view.object_id, view.ip) == (
        users["coord_sud"],
        "referral",
        str(referral.pk),
        "127.0.0.1",
    )


def test_login_and_failed_login_are_journaled_without_the_typed_email(client, users):
    from tests.factories import TEST_PASSWORD

    client.post("/connexion/", {"username": "nobody-typed-this@vigie.test", "password": "x"})
    client.post("/connexion/", {"username": users["coord_sud"].email, "password": TEST_PASSWORD})
    assert actions()[-2:] == ["login_failed", "login"]
    failed = AccessEvent.objects.get(action="login_failed")
    assert failed.actor is None and "nobody" not in str(failed.__dict__)


def test_journal_holds_no_personal_data(users, make_referral):
    referral = make_referral("evaluation")
    victim_name = referral.victim["last_name"]
    with connection.cursor() as cursor:
        cursor.execute("SELECT CAST(t AS text) FROM audit_accessevent t")
        rows = [row for (row,) in cursor.fetchall()]
    assert rows and not [row for row in rows if victim_name in row]


def test_verify_audit_passes_then_detects_a_tampered_row(users, make_referral, capsys):
    make_referral("received")
    call_command("verify_audit")
    assert "intègre" in capsys.readouterr().out
    victim = AccessEvent.objects.order_by("id")[3]
    with database_owner():  # a superuser editing the table behind the application's back
        sql(f"UPDATE {TABLE} SET action = 'referral.view' WHERE id = %s", [victim.pk])
    checked, broken = audit_verify_chain()
    assert broken.pk == victim.pk and checked == 3
    with pytest.raises(CommandError, match=f"n° {victim.pk} .*sceau HMAC invalide"):
        call_command("verify_audit")


def test_deleted_row_breaks_the_chain(record):
    events = record(4)
    with database_owner():
        sql(f"DELETE FROM {TABLE} WHERE id = %s", [events[1].pk])
    checked, broken = audit_verify_chain()
    assert (checked, broken) == (1, events[2])
    with pytest.raises(CommandError, match=f"n° {events[2].pk} .*événement supprimé"):
        call_command("verify_audit")


def test_rows_cannot_be_changed_or_deleted_through_the_orm(record):
    event = record()[0]
    event.action = "other"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    with pytest.raises(ValueError):
        AccessEvent.objects.filter(pk=event.pk).update(action="other")
    with pytest.raises(ValueError):
        AccessEvent.objects.filter(pk=event.pk).delete()
    assert AccessEvent.objects.get(pk=event.pk).action == "test.event"
