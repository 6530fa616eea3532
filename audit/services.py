"""Writing to the journal. Every row chains to the previous one under a global lock."""

from django.db import connection, transaction
from django.utils import timezone

from audit.context import current_ip
from audit.models import AccessEvent

GENESIS_HASH = "0" * 64
_ADVISORY_LOCK_KEY = 7_414_253  # arbitrary, constant: "the audit chain" lock


def _chain_lock():
    """PostgreSQL: a transaction-level advisory lock (re-entrant, freed at commit).

    SQLite (embedded default) needs none: its transactions start IMMEDIATE (see settings).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])


def audit_record(*, actor, action: str, obj=None, object_type: str = "", object_id="", detail: str = "") -> AccessEvent:
    """Append one event. Call it last in a service: the chain lock is held until commit."""
    if obj is not None:
        object_type = obj._meta.model_name
        object_id = obj.pk
    actor_id = getattr(actor, "pk", None) if actor is not None and actor.is_authenticated else None
    with transaction.atomic():
        _chain_lock()
        last = AccessEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AccessEvent(
            created_at=timezone.now(),
            actor_id=actor_id,
            action=action,
            object_type=object_type,
            object_id=str(object_id),
            detail=detail,
            ip=current_ip.get(),
            prev_hash=last or GENESIS_HASH,
        )
        event.hash = event.compute_hash()
        event.save()
    return event


def audit_verify_chain() -> tuple[int, AccessEvent | None]:
    """Walk the chain; return (rows checked, first broken row or None)."""
    prev = GENESIS_HASH
    checked = 0
    for event in AccessEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.prev_hash != prev or event.compute_hash() != event.hash:
            return checked, event
        prev = event.hash
        checked += 1
    return checked, None
