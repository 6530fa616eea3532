"""The attacker of the journal's tests: owns the database (can switch its trigger off), not the key."""

import hashlib
import json
from contextlib import contextmanager

from django.db import connection, transaction
from django.test import override_settings

from audit.models import AccessEvent

TEST_KEY = "vigie-test-audit-key-0123456789abcdef0123456789"
WRONG_KEY = "an-attacker-guessed-this-key-0123456789abcdef"
TABLE = AccessEvent._meta.db_table
TRIGGER = "vigie_audit_append_only"


@contextmanager
def database_owner():
    """The attacker: the database's owner, who can switch the journal's trigger off."""
    _alter(f"DISABLE TRIGGER {TRIGGER}")
    try:
        yield connection
    finally:
        _alter(f"ENABLE TRIGGER {TRIGGER}")


def _alter(action):
    with connection.cursor() as cursor:
        # inside the test's transaction, the deferred foreign-key checks of the rows just written run first
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"ALTER TABLE {TABLE} {action}")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def delete_newest(count):
    """Delete the `count` newest events behind the application's back."""
    with database_owner(), transaction.atomic():
        return sql(f"DELETE FROM {TABLE} WHERE id IN (SELECT id FROM {TABLE} ORDER BY id DESC LIMIT %s)", [count])


def plain_sha256(prev, event):
    """The journal's former, keyless seal: anyone can recompute it."""
    content = json.dumps(
        [
            event.created_at.isoformat(),
            event.actor_id,
            event.action,
            event.object_type,
            event.object_id,
            event.detail,
            event.ip,
        ],
        separators=(",", ":"),
    )
    return hashlib.sha256((prev + content).encode()).hexdigest()


def hmac_under(key):
    """The right algorithm under the wrong key."""

    def seal(prev, event):
        with override_settings(VIGIE_AUDIT_KEY=key):
            event.prev_mac = prev
            return event.compute_mac()

    return seal


def rewrite_from(event_id, seal, **changes):
    """Rewrite event `event_id` (`changes`) and re-seal it and every later event with `seal(prev, event)`."""
    previous = AccessEvent.objects.filter(pk__lt=event_id).order_by("-id").values_list("mac", flat=True).first()
    prev = previous or "0" * 64
    with database_owner(), transaction.atomic():
        for event in AccessEvent.objects.filter(pk__gte=event_id).order_by("id"):
            for name, value in changes.items() if event.pk == event_id else ():
                setattr(event, name, value)
            event.prev_mac = prev
            event.mac = seal(prev, event)
            sql(
                f"UPDATE {TABLE} SET action = %s, detail = %s, prev_mac = %s, mac = %s WHERE id = %s",
                [event.action, event.detail, event.prev_mac, event.mac, event.pk],
            )
            prev = event.mac
