"""In real transactions: PostgreSQL refuses changes to the journal; the retention purge is the one way out.

Also the migration that seals the existing rows under the key.
"""

import json
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import ProgrammingError
from django.utils import timezone

from audit import checkpoints
from audit.models import AccessEvent
from audit.services import PURGE_FLAG, allow_journal_purge, audit_purge, audit_verify
from tests.audit.attacker import TABLE, database_owner, plain_sha256, rewrite_from, sql

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(__file__).resolve().parents[2]


def lines():
    return [json.loads(line) for line in checkpoints.checkpoint_path().read_text().splitlines()]


def assert_refused(statement, params=()):
    with pytest.raises(ProgrammingError, match="Le journal des accès est en ajout seul") as refusal:
        sql(statement, params)
    assert refusal.value.__cause__.sqlstate == "42501"  # insufficient_privilege


# --- the database refuses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [f"UPDATE {TABLE} SET action = 'login' WHERE id = %s", f"DELETE FROM {TABLE} WHERE id = %s", f"TRUNCATE {TABLE}"],
    ids=["UPDATE", "DELETE", "TRUNCATE"],
)
def test_the_database_refuses_changes_to_the_journal(record, statement):
    event = record(3)[1]
    assert_refused(statement, [event.pk] if "%s" in statement else [])
    assert AccessEvent.objects.count() == 3 and AccessEvent.objects.get(pk=event.pk).action == "test.event"
    call_command("verify_audit")


def test_the_purge_flag_lasts_one_transaction_and_never_allows_an_update(record):
    events = record(3)
    with transaction.atomic():
        sql("SELECT set_config(%s, 'on', true)", [PURGE_FLAG])
        assert_refused(f"UPDATE {TABLE} SET action = 'login' WHERE id = %s", [events[0].pk])
    sql("SELECT set_config(%s, 'on', true)", [PURGE_FLAG])  # a transaction of its own, already over
    assert_refused(f"DELETE FROM {TABLE} WHERE id = %s", [events[0].pk])
    assert AccessEvent.objects.count() == 3


def test_flush_empties_the_journal_outside_production_only(record, settings):
    record(2)
    settings.PRODUCTION = True
    with pytest.raises(CommandError):
        call_command("flush", interactive=False, verbosity=0)
    assert AccessEvent.objects.count() == 2
    settings.PRODUCTION = False
    call_command("flush", interactive=False, verbosity=0)
    assert AccessEvent.objects.count() == 0


# --- retention -----------------------------------------------------------------------------------------


def history(record, *ages_in_days):
    """Events recorded `age` days ago (three each), the journal verified (and checkpointed) each time."""
    for age in ages_in_days:
        with time_machine.travel(timezone.now() - timedelta(days=age)):
            record(3, action=f"test.{age}")
            call_command("verify_audit")


def test_the_retention_purge_keeps_the_journal_verifiable(record, capsys):
    history(record, 500, 400, 200, 0)
    old = list(AccessEvent.objects.filter(created_at__lt=timezone.now() - timedelta(days=365)).order_by("id"))
    assert len(old) == 7  # 2 × 3, and the opening of the checkpoint file
    total = AccessEvent.objects.count()
    before = lines()

    call_command("purge_audit", dry_run=True)
    assert "Simulation, rien n'a été supprimé : 7 événement(s)" in capsys.readouterr().out
    assert AccessEvent.objects.count() == total and lines() == before

    call_command("purge_audit")
    assert "Purge terminée : 7 événement(s)" in capsys.readouterr().out
    assert not AccessEvent.objects.filter(pk__lte=old[-1].pk).exists()
    purge = [line for line in lines() if line["kind"] == "purge"]
    assert [(p["through_id"], p["through_mac"], p["removed"], p["days"]) for p in purge] == [
        (old[-1].pk, old[-1].mac, 7, 365)
    ]
    first = AccessEvent.objects.order_by("id").first()
    assert first.prev_mac == old[-1].mac
    assert AccessEvent.objects.filter(action="audit.purge", detail__startswith="7 événement(s)").exists()

    call_command("verify_audit")
    assert "Journal intègre" in capsys.readouterr().out
    assert_refused(f"DELETE FROM {TABLE} WHERE id = %s", [first.pk])  # the purge's permission is gone

    # Everything else is still caught: here, the oldest remaining events deleted behind its back.
    with database_owner(), transaction.atomic():
        sql(f"DELETE FROM {TABLE} WHERE id = %s", [first.pk])
    with pytest.raises(CommandError, match="commence à l'événement n° .* hors de purge_audit"):
        call_command("verify_audit")


def test_the_purge_goes_by_batches_and_never_removes_the_newest_event(record):
    history(record, 800, 700)
    newest = AccessEvent.objects.order_by("id").last()
    purge = audit_purge(batch_size=2)
    assert purge.removed == 6 and list(AccessEvent.objects.values_list("pk", flat=True))[0] == newest.pk
    assert [line["removed"] for line in lines() if line["kind"] == "purge"] == [2, 2, 2]
    assert audit_verify().ok


def test_a_head_checkpoint_after_the_purge_point_still_catches_a_truncation(record):
    history(record, 400, 10, 0)
    audit_purge()
    rows = list(AccessEvent.objects.order_by("id"))
    with database_owner(), transaction.atomic():
        sql(f"DELETE FROM {TABLE} WHERE id >= %s", [rows[-3].pk])
    with pytest.raises(CommandError, match="journal tronqué"):
        call_command("verify_audit")


def test_the_purge_refuses_a_journal_that_does_not_verify(record):
    history(record, 400, 0)
    victim = AccessEvent.objects.order_by("id").first()
    rewrite_from(victim.pk, plain_sha256, action="login")
    total = AccessEvent.objects.count()
    with pytest.raises(CommandError, match="Purge refusée : le journal ne se vérifie pas"):
        call_command("purge_audit")
    assert AccessEvent.objects.count() == total
    assert not [line for line in lines() if line["kind"] == "purge"]


@pytest.mark.parametrize("days", [182, 1096, 0])
def test_a_retention_outside_six_months_to_three_years_is_refused(record, settings, days):
    history(record, 2000)
    settings.VIGIE_AUDIT_RETENTION_DAYS = days
    with pytest.raises(CommandError, match="VIGIE_AUDIT_RETENTION_DAYS vaut .* entre 183 jours .* et 1095 jours"):
        call_command("purge_audit")
    assert AccessEvent.objects.count() == 4


def test_the_settings_refuse_a_retention_outside_the_bounds():
    env = {**os.environ, "VIGIE_AUDIT_RETENTION_DAYS": "90"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0 and "VIGIE_AUDIT_RETENTION_DAYS=90" in result.stderr


# --- the migration to keyed seals ----------------------------------------------------------------------


def legacy_rows(count, *, broken_at=None):
    """Rows as the former journal wrote them: a plain SHA-256 chain in prev_hash/hash."""
    prev = "0" * 64
    for i in range(count):
        event = AccessEvent(created_at=timezone.now(), action="legacy", object_id=str(i))
        event.actor_id, event.object_type, event.detail, event.ip = None, "", "", "192.0.2.1"
        digest = plain_sha256(prev, event)
        if i == broken_at:
            event.action = "rewritten"
        sql(
            f"INSERT INTO {TABLE} (created_at, action, object_type, object_id, detail, ip, prev_hash, hash) "
            "VALUES (%s, %s, '', %s, '', %s, %s, %s)",
            [event.created_at, event.action, event.object_id, event.ip, prev, digest],
        )
        prev = digest


@pytest.fixture
def audit_at_0001():
    """The journal's table as migration 0001 left it; every app's latest migrations put back afterwards
    (going back may unapply another app's migrations that depend on the journal's later ones)."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([("audit", "0001_initial")])
    try:
        yield
    finally:
        with transaction.atomic():
            allow_journal_purge()
            sql(f"DELETE FROM {TABLE}")
        MigrationExecutor(connection).migrate(latest)


def test_the_migration_seals_the_existing_chain_under_the_key(audit_at_0001):
    legacy_rows(5)
    MigrationExecutor(connection).migrate(MigrationExecutor(connection).loader.graph.leaf_nodes("audit"))
    verdict = audit_verify()
    assert verdict.ok and verdict.checked == 5
    assert_refused(f"DELETE FROM {TABLE}")


def test_the_migration_refuses_to_seal_a_broken_chain(audit_at_0001):
    legacy_rows(5, broken_at=2)
    rows = f"SELECT id, prev_hash, hash FROM {TABLE} ORDER BY id"
    with connection.cursor() as cursor:
        cursor.execute(rows)
        before = cursor.fetchall()
    executor = MigrationExecutor(connection)
    with pytest.raises(RuntimeError, match=f"rupture de la chaîne à l'événement n° {before[2][0]}"):
        executor.migrate(executor.loader.graph.leaf_nodes("audit"))
    with connection.cursor() as cursor:
        cursor.execute(rows)
        assert cursor.fetchall() == before  # nothing renamed, nothing re-sealed
