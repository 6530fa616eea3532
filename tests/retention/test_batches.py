"""The purge goes by batches: whatever their size, it does and journals what it did dossier by dossier."""

import json
from io import StringIO

from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from audit.models import AccessEvent
from referrals.models import Referral
from retention import services
from retention.models import LegalHold
from tests.retention.helpers import back, exists, stored_names


def journal_after(event_id) -> list[tuple[str, str, str]]:
    events = AccessEvent.objects.filter(pk__gt=event_id).order_by("pk")
    return list(events.values_list("action", "object_id", "detail"))


def last_event_id() -> int:
    return AccessEvent.objects.order_by("-pk").values_list("pk", flat=True).first()


def test_small_batches_do_and_journal_what_one_batch_does(old, monkeypatch, django_capture_on_commit_callbacks):
    start = last_event_id()
    files = {old[key].pk: len(stored_names([old[key].pk])) for key in ("closed", "refused", "measure")}
    with monkeypatch.context() as small:
        small.setattr(services, "BATCH", 1)
        small.setattr(services, "SCAN", 2)
        listed = services.retention_purge(dry_run=True)
        with transaction.atomic():
            one_by_one = services.retention_purge()
            journal = journal_after(start)
            transaction.set_rollback(True)
    with django_capture_on_commit_callbacks(execute=True):
        purge = services.retention_purge()
    assert purge.counts == one_by_one.counts == listed.counts
    assert journal_after(start) == journal
    anonymised = [(int(pk), json.loads(detail)) for action, pk, detail in journal if action == "retention.anonymise"]
    assert [(pk, detail["kind"], detail["files"]) for pk, detail in anonymised] == [
        (old["closed"].pk, "closed", files[old["closed"].pk]),
        (old["refused"].pk, "closed", files[old["refused"].pk]),
        (old["measure"].pk, "measure", files[old["measure"].pk]),
    ]
    assert ("retention.draft_delete", str(old["draft"].pk), "") in journal
    assert [pk for action, pk, _ in journal if action == "retention.operator_sheet"] == [str(old["returned"].pk)]
    call_command("verify_audit", stdout=StringIO())


def test_files_go_only_once_their_batch_commits(old, django_capture_on_commit_callbacks):
    names = stored_names([old[key].pk for key in ("draft", "closed", "refused", "measure")])
    with django_capture_on_commit_callbacks() as callbacks:
        services.retention_purge()
    assert names and all(exists(name) for name in names)
    for callback in callbacks:
        callback()
    assert not any(exists(name) for name in names)


def test_a_dossier_held_once_its_batch_is_selected_is_left_alone(
    old, users, monkeypatch, django_capture_on_commit_callbacks
):
    """The hold is set between the selection and the lock: the lock checks again, the rest of the batch goes."""
    refused = old["refused"]
    names = stored_names([refused.pk])
    selected = services._batches

    def hold_once_selected(queryset):
        for ids in selected(queryset):
            if refused.pk in ids and not LegalHold.objects.filter(referral=refused).exists():
                services.legal_hold_set(user=users["prosecutor_nanterre"], referral_id=refused.pk, reason="Saisie.")
            yield ids

    start = last_event_id()
    monkeypatch.setattr(services, "_batches", hold_once_selected)
    with django_capture_on_commit_callbacks(execute=True):
        purge = services.retention_purge()
    assert purge.counts["closed"] == 1 and purge.counts["measure"] == 1
    refused.refresh_from_db()
    assert refused.anonymised_at is None and refused.victim and all(exists(name) for name in names)
    assert Referral.objects.get(pk=old["closed"].pk).anonymised_at is not None
    touched = [pk for action, pk, _ in journal_after(start) if action.startswith("retention.") and pk]
    assert str(refused.pk) not in touched and str(old["closed"].pk) in touched


def test_the_queries_do_not_grow_with_the_dossiers_of_a_batch(make_referral):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured, transaction.atomic():
            services.retention_purge()
            transaction.set_rollback(True)
        return len(captured)

    with back(months=25):
        make_referral("closed")
    one = queries()
    with back(months=25):
        for _ in range(4):
            make_referral("closed")
    assert queries() == one
