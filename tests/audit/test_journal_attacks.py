"""A journal that cannot lie: each attack by someone who owns the database, but not the key, is detected."""

import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.db.utils import ProgrammingError
from django.test import override_settings
from django.utils import timezone

from audit import checkpoints
from audit.models import AccessEvent
from audit.services import CHECKPOINTS_STARTED, audit_record, audit_verify, audit_verify_chain
from audit.tasks import checkpoint_journal
from tests.audit.attacker import (
    TABLE,
    WRONG_KEY,
    database_owner,
    delete_newest,
    hmac_under,
    plain_sha256,
    rewrite_from,
    sql,
)

pytestmark = pytest.mark.django_db


def verify_fails(*fragments):
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    for fragment in fragments:
        assert fragment in str(failure.value)
    return str(failure.value)


def lines():
    return [json.loads(line) for line in checkpoints.checkpoint_path().read_text().splitlines()]


# --- truncation ----------------------------------------------------------------------------------------


def test_deleting_the_newest_events_is_caught_by_the_checkpoint(record, capsys):
    events = record(40)
    call_command("verify_audit")
    assert "Journal intègre : 40 événements" in capsys.readouterr().out
    head = lines()[-1]
    assert (head["kind"], head["last_id"], head["last_mac"]) == ("head", events[-1].pk, events[-1].mac)
    rows = list(AccessEvent.objects.order_by("id"))  # the 40, and the opening of the checkpoint file

    assert delete_newest(25) == 25
    kept = rows[:-25]
    assert audit_verify_chain() == (len(kept), None)  # the chain alone cannot see a missing tail

    verify_fails(
        "journal tronqué",
        f"scelle l'événement n° {events[-1].pk}",
        f"le dernier événement en base est le n° {kept[-1].pk}",
    )


def test_a_truncated_journal_that_goes_on_growing_is_still_caught(record):
    events = record(10)
    checkpoint_journal.delay()  # the beat's checkpoint
    delete_newest(4)
    record(6)  # the application carries on, chaining from the new, shorter head
    checkpoint_journal.delay()  # and the beat checkpoints the forged history too
    assert audit_verify_chain()[1] is None

    verify_fails(f"l'événement n° {events[-1].pk}", "a disparu de la base")


def test_deleting_every_event_is_caught(record):
    record(5)
    call_command("verify_audit")
    with database_owner(), transaction.atomic():
        sql(f"DELETE FROM {TABLE}")
    verify_fails("journal tronqué", "journal vide")


def test_deleting_the_oldest_events_outside_the_purge_is_caught(record):
    events = record(6)
    with database_owner(), transaction.atomic():
        sql(f"DELETE FROM {TABLE} WHERE id <= %s", [events[1].pk])
    verify_fails(f"commence à l'événement n° {events[2].pk}", "hors de purge_audit")


# --- rewriting -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("seal", [plain_sha256, hmac_under(WRONG_KEY)], ids=["plain SHA-256", "HMAC under a wrong key"])
def test_a_rewritten_event_with_a_recomputed_chain_is_caught(record, seal):
    events = record(8)
    victim = events[3]
    rewrite_from(victim.pk, seal, action="referral.list", detail="nothing to see")

    rewritten = list(AccessEvent.objects.order_by("id"))
    assert all(e.prev_mac == p.mac for p, e in zip(rewritten, rewritten[1:], strict=False))  # links hold
    assert all(e.mac == seal(e.prev_mac, e) for e in rewritten[3:])  # and so do the attacker's seals
    checked, broken = audit_verify_chain()
    assert (checked, broken) == (3, victim)

    verify_fails(f"n° {victim.pk} (3 vérifiés avant)", "sceau HMAC invalide")


def test_the_newest_event_rewritten_under_a_wrong_key_is_caught_and_never_checkpointed(record):
    events = record(3)
    rewrite_from(events[-1].pk, hmac_under(WRONG_KEY), action="login")
    checkpoint_journal.delay()
    assert not checkpoints.checkpoint_path().exists()  # the beat will not seal a forged head
    verify_fails(f"n° {events[-1].pk}", "sceau HMAC invalide")


def test_a_rewrite_of_a_checkpointed_event_is_named_against_its_checkpoint(record):
    events = record(5)
    call_command("verify_audit")
    rewrite_from(events[-1].pk, plain_sha256, action="login")
    message = verify_fails(f"n° {events[-1].pk}", "sceau HMAC invalide")
    assert "autre(s) anomalie(s)" in message
    problems = audit_verify().problems
    assert any("ne porte plus le sceau enregistré par le point de contrôle" in p for p in problems)


def test_verifying_under_another_key_fails_and_says_so(record):
    events = record(3)
    call_command("verify_audit")
    with override_settings(VIGIE_AUDIT_KEY=WRONG_KEY):
        verify_fails("une autre clé que VIGIE_AUDIT_KEY")
        problems = audit_verify().problems
    assert any(f"n° {events[0].pk} (0 vérifiés avant)" in p and "sceau HMAC invalide" in p for p in problems)


# --- the checkpoint file -------------------------------------------------------------------------------


def checkpointed_journal(record):
    """Three checkpoints, three events apart; returns the file."""
    for _ in range(3):
        record(3)
        call_command("verify_audit")
    path = checkpoints.checkpoint_path()
    assert [line["kind"] for line in lines()] == ["head", "head", "head"]
    return path


def test_an_edited_checkpoint_is_caught(record):
    path = checkpointed_journal(record)
    entries = lines()
    entries[-1]["last_id"] = entries[0]["last_id"]  # pretend the journal ended earlier
    entries[-1]["last_mac"] = entries[0]["last_mac"]
    path.write_text("".join(json.dumps(entry) + "\n" for entry in entries))
    verify_fails("point de contrôle falsifié", f"{path.name}, ligne 3")


def test_a_checkpoint_forged_under_another_key_is_caught(record):
    path = checkpointed_journal(record)
    events = list(AccessEvent.objects.order_by("id"))
    with override_settings(VIGIE_AUDIT_KEY=WRONG_KEY):  # the attacker's own checkpoint, properly sealed
        forged = {**lines()[-1], "last_id": events[2].pk, "last_mac": events[2].mac, "key": checkpoints.key_id()}
        forged.pop("mac")
        forged["mac"] = checkpoints.seal(checkpoints.DOMAIN, forged)
    with path.open("a") as handle:
        handle.write(json.dumps(forged) + "\n")
    verify_fails("1 point(s) de contrôle scellé(s) par une autre clé que VIGIE_AUDIT_KEY", "ligne 4)")
    forged["key"] = lines()[0]["key"]  # claiming the right key does not help either
    path.write_text(path.read_text().rsplit("\n", 2)[0] + "\n" + json.dumps(forged) + "\n")
    verify_fails("point de contrôle falsifié", "ligne 4")


def test_a_checkpoint_removed_from_the_middle_is_caught(record):
    path = checkpointed_journal(record)
    first, _, third = path.read_text().splitlines()
    path.write_text(f"{first}\n{third}\n")
    verify_fails("points de contrôle manquants ou déplacés", "ligne 2")


def test_a_deleted_checkpoint_file_is_caught_and_not_silently_recreated(record, capsys):
    path = checkpointed_journal(record)
    started = AccessEvent.objects.get(action=CHECKPOINTS_STARTED)
    assert started.detail == path.name
    path.unlink()
    delete_newest(2)  # …to hide a truncation

    verify_fails("fichier des points de contrôle absent", f"événement n° {started.pk}")
    with pytest.raises(checkpoints.CheckpointError, match="restaurez-le"):
        checkpoint_journal.delay()
    assert not path.exists()

    # After an inquiry, a new file is opened on purpose, and the journal says so.
    call_command("verify_audit", restart_checkpoints=True)
    assert "Journal intègre" in capsys.readouterr().out
    assert (
        AccessEvent.objects.filter(action=CHECKPOINTS_STARTED).order_by("id").last().detail == f"reprise : {path.name}"
    )
    with pytest.raises(CommandError, match="n'est pas perdu"):
        call_command("verify_audit", restart_checkpoints=True)


def test_a_torn_checkpoint_file_is_not_extended(record):
    path = checkpointed_journal(record)
    path.write_text(path.read_text()[:-20])
    record()
    with pytest.raises(checkpoints.CheckpointError, match="ligne complète"):
        checkpoint_journal.delay()
    verify_fails("point de contrôle illisible")


# --- the database refuses ------------------------------------------------------------------------------


def test_the_orm_cannot_go_round_the_refusal(record):
    event = record()[0]
    with pytest.raises(ProgrammingError, match="ajout seul"), transaction.atomic():
        AccessEvent._base_manager.filter(pk=event.pk).update(action="login")
    with pytest.raises(ProgrammingError, match="ajout seul"), transaction.atomic():
        AccessEvent._base_manager.filter(pk=event.pk)._raw_delete(AccessEvent.objects.db)


# --- a normal life ------------------------------------------------------------------------------------


def test_a_normal_run_of_the_app_keeps_the_journal_verifiable(api, users, make_referral, record, capsys):
    referral = make_referral("evaluation")
    checkpoint_journal.delay()
    api(users["coord_sud"]).get(f"/api/v1/referrals/{referral.pk}/")
    api(users["referrer_ccas"]).get("/api/v1/referrals/")
    call_command("verify_audit")
    record(5)
    checkpoint_journal.delay()
    checkpoint_journal.delay()  # nothing new: no new line
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        api(users["coord_sud"]).get(f"/dossiers/{referral.pk}/")
        checkpoint_journal.delay()
    call_command("verify_audit")

    out = capsys.readouterr().out
    assert out.count("Journal intègre") == 2
    total = AccessEvent.objects.count()
    assert f"{total} événements vérifiés" in out
    assert [line["by"] for line in lines()] == ["beat", "verify_audit", "beat", "beat"]
    assert lines()[-1]["last_id"] == AccessEvent.objects.order_by("id").last().pk


@pytest.mark.parametrize("ip", ["2001:DB8:0:0::1", "::ffff:192.0.2.10", "192.0.2.7"])
def test_addresses_are_sealed_as_the_database_gives_them_back(record, ip):
    from audit.context import current_ip

    token = current_ip.set(ip)
    try:
        event = audit_record(actor=None, action="login_failed")
    finally:
        current_ip.reset(token)
    assert AccessEvent.objects.get(pk=event.pk).ip == event.ip
    assert audit_verify().ok
