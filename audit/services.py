"""The journal: append (sealed to the previous row under a global lock), verify, checkpoint, purge."""

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction
from django.utils import timezone

from audit import checkpoints
from audit.context import current_ip
from audit.models import AccessEvent
from audit.seal import GENESIS, same

logger = logging.getLogger(__name__)

_ADVISORY_LOCK_KEY = 7_414_253  # arbitrary, constant: "the audit chain" lock
_PURGE_LOCK_KEY = 7_414_254  # one retention purge at a time
PURGE_FLAG = "vigie.audit_purge"  # transaction-local setting the database trigger lets DELETE through with
RETENTION_DAYS_MIN, RETENTION_DAYS_MAX = 183, 1095  # CNIL 2021-122: 6 months to 3 years
CHECKPOINTS_STARTED = "audit.checkpoints.start"


class JournalAltered(Exception):
    """The journal does not verify: it must be examined before anything is removed from it."""


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
    return _append(actor=actor, action=action, targets=[(object_type, object_id)], detail=detail)[0]


def audit_record_many(*, actor, action: str, objects, detail: str = "") -> None:
    """One event per object, chained in order, in a bounded number of queries (a list shown at once)."""
    targets = [(obj._meta.model_name, obj.pk) for obj in objects]
    if targets:
        _append(actor=actor, action=action, targets=targets, detail=detail)


def _append(*, actor, action: str, targets: list[tuple[str, object]], detail: str) -> list[AccessEvent]:
    actor_id = getattr(actor, "pk", None) if actor is not None and actor.is_authenticated else None
    ip = _stored_ip(current_ip.get())
    with transaction.atomic():
        _chain_lock()
        prev = AccessEvent.objects.order_by("-id").values_list("mac", flat=True).first() or GENESIS
        events = []
        for object_type, object_id in targets:
            event = AccessEvent(
                created_at=timezone.now(),
                actor_id=actor_id,
                action=action,
                object_type=object_type,
                object_id=str(object_id),
                detail=detail,
                ip=ip,
                prev_mac=prev,
            )
            event.mac = prev = event.compute_mac()
            events.append(event)
        return AccessEvent.objects.bulk_create(events)


def _stored_ip(ip: str | None) -> str | None:
    """The address as the database gives it back (sealed as it will be read)."""
    if not ip:
        return None
    return AccessEvent._meta.get_field("ip").get_prep_value(ip)


# --- verification ------------------------------------------------------------------------------------


@dataclass
class Verdict:
    """What verification found: rows whose seal and link verify, the first broken row, every problem."""

    checked: int = 0
    head: tuple[int, str] | None = None  # (id, mac) of the last verified row
    broken: AccessEvent | None = None
    problems: list[str] = field(default_factory=list)
    checkpoints: int = 0
    path: str = ""
    missing_file: str = ""  # the problem saying so, if the checkpoint file was lost

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_verify() -> Verdict:
    """Walk the chain (seals and links) and hold it against every checkpoint kept outside the database."""
    ledger = checkpoints.read()
    verdict = Verdict(problems=list(ledger.problems), checkpoints=len(ledger.entries), path=str(ledger.path))
    starts = {GENESIS: 0} | {p["through_mac"]: p["through_id"] for p in ledger.purges}
    watched: dict[int, list[tuple[str, str, bool]]] = {}  # id → (sealed mac, which line, is a purge point)
    for entry in ledger.heads:
        watched.setdefault(entry["last_id"], []).append((entry["last_mac"], _line(entry), False))
    for entry in ledger.purges:
        watched.setdefault(entry["through_id"], []).append((entry["through_mac"], _line(entry), True))

    purged_through = 0
    first = last = prev = None
    seen = set()
    for event in AccessEvent.objects.order_by("id").iterator(chunk_size=2000):
        if first is None:
            first = event
            purged_through = starts.get(event.prev_mac, -1)
            if purged_through < 0 or event.pk <= purged_through:
                verdict.broken = event
                verdict.problems.append(
                    f"le journal commence à l'événement n° {event.pk}, qui ne suit ni le début de la chaîne ni un "
                    "point de purge enregistré : des événements anciens ont été supprimés hors de purge_audit."
                )
            prev = event.prev_mac
        if verdict.broken is None:
            if event.prev_mac != prev:
                verdict.broken = event
                verdict.problems.append(
                    f"rupture de la chaîne à l'événement n° {event.pk} ({verdict.checked} vérifiés avant) : "
                    "il ne suit pas l'événement précédent (événement supprimé, inséré ou déplacé)."
                )
            elif not same(event.compute_mac(), event.mac):
                verdict.broken = event
                verdict.problems.append(
                    f"rupture de la chaîne à l'événement n° {event.pk} ({verdict.checked} vérifiés avant) : "
                    "sceau HMAC invalide (événement modifié, ou chaîne recalculée sans la clé VIGIE_AUDIT_KEY)."
                )
            else:
                verdict.checked += 1
                verdict.head = (event.pk, event.mac)
        if event.pk in watched:
            seen.add(event.pk)
            for mac, where, _ in watched[event.pk]:
                if not same(mac, event.mac):
                    verdict.problems.append(
                        f"l'événement n° {event.pk} ne porte plus le sceau enregistré par le point de contrôle "
                        f"({where}) : il a été réécrit."
                    )
        prev, last = event.mac, event

    for pk in sorted(set(watched) - seen):
        for _, where, is_purge in watched[pk]:
            if is_purge or pk <= purged_through:
                continue  # removed by a recorded retention purge
            if last is None or pk > last.pk:
                verdict.problems.append(
                    f"journal tronqué : le point de contrôle ({where}) scelle l'événement n° {pk}, or le dernier "
                    f"événement en base est le n° {last.pk if last else '— (journal vide)'} : "
                    "des événements récents ont été supprimés."
                )
            else:
                verdict.problems.append(
                    f"l'événement n° {pk}, scellé par le point de contrôle ({where}), a disparu de la base."
                )

    if not ledger.entries and not ledger.problems:
        started = _checkpoints_started()
        if started is not None:
            verdict.missing_file = (
                f"fichier des points de contrôle absent ou vide ({ledger.path}), alors que le journal en a ouvert un "
                f"(événement n° {started.pk}) : il a été supprimé ou VIGIE_AUDIT_CHECKPOINT_DIR a changé."
            )
            verdict.problems.append(verdict.missing_file)
    return verdict


def audit_verify_chain() -> tuple[int, AccessEvent | None]:
    """Walk the chain; return (rows checked, first broken row or None)."""
    verdict = audit_verify()
    return verdict.checked, verdict.broken


def _line(entry: dict) -> str:
    moment = timezone.localtime(datetime.fromisoformat(entry["at"]))
    return f"ligne {entry['line']}, {moment:%d/%m/%Y %H:%M:%S}"


# --- checkpoints -------------------------------------------------------------------------------------


def audit_checkpoint(*, by: str, head: tuple[int, str] | None = None, restart: bool = False) -> dict | None:
    """Record the head of the chain (last id and seal) in the checkpoint file, outside the database.

    `head` is a head just verified; by default, the newest row (its own seal checked). Returns the new
    line, or None when there is nothing new to record (empty journal, head already recorded, forged head).
    A file that the journal says was opened is never silently created again: `restart` does it on purpose.
    """
    if head is None:
        newest = AccessEvent.objects.order_by("-id").first()
        if newest is None:
            return None
        if not same(newest.compute_mac(), newest.mac):
            logger.error("Journal altéré : l'événement n° %s, le plus récent, a un sceau invalide.", newest.pk)
            return None
        head = (newest.pk, newest.mac)
    ledger = checkpoints.read()
    opening = not ledger.entries and not ledger.problems
    if opening and not restart and _checkpoints_started() is not None:
        raise checkpoints.CheckpointError(
            f"Fichier des points de contrôle absent ou vide ({ledger.path}) alors que le journal en a ouvert un : "
            "restaurez-le depuis sa sauvegarde, ou, après enquête, lancez verify_audit --restart-checkpoints."
        )
    previous = ledger.heads[-1] if ledger.heads else None
    if previous is not None and (previous["last_id"], previous["last_mac"]) == head:
        return None
    if previous is not None and not _still_there(previous, ledger):
        logger.error(
            "Journal tronqué ou réécrit : l'événement n° %s du dernier point de contrôle n'est plus en base tel quel.",
            previous["last_id"],
        )
    entry = checkpoints.append({"kind": "head", "by": by, "last_id": head[0], "last_mac": head[1]}, ledger.path)
    if opening:
        detail = f"{'reprise : ' if restart else ''}{ledger.path.name}"
        audit_record(actor=None, action=CHECKPOINTS_STARTED, detail=detail[:200])
    return entry


def _checkpoints_started() -> AccessEvent | None:
    return AccessEvent.objects.filter(action=CHECKPOINTS_STARTED).order_by("id").first()


def _still_there(head: dict, ledger: checkpoints.Ledger) -> bool:
    if any(p["through_id"] >= head["last_id"] for p in ledger.purges):
        return True
    mac = AccessEvent.objects.filter(pk=head["last_id"]).values_list("mac", flat=True).first()
    return mac is not None and same(mac, head["last_mac"])


# --- retention ---------------------------------------------------------------------------------------


@dataclass
class Purge:
    days: int
    cutoff: datetime
    removed: int = 0
    through_id: int | None = None
    dry_run: bool = False


def audit_retention_days() -> int:
    days = settings.VIGIE_AUDIT_RETENTION_DAYS
    if not isinstance(days, int) or not RETENTION_DAYS_MIN <= days <= RETENTION_DAYS_MAX:
        raise ImproperlyConfigured(
            f"VIGIE_AUDIT_RETENTION_DAYS vaut {days!r} : la durée de conservation du journal doit être comprise "
            f"entre {RETENTION_DAYS_MIN} jours (6 mois) et {RETENTION_DAYS_MAX} jours (3 ans) "
            "(recommandation CNIL n° 2021-122)."
        )
    return days


def allow_journal_purge(using=None) -> None:
    """Inside the current transaction only, let the database trigger accept DELETE (and TRUNCATE) of the journal."""
    using = using or connection
    if using.vendor == "postgresql":
        with using.cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'on', true)", [PURGE_FLAG])


def audit_purge(*, dry_run: bool = False, batch_size: int = 5000) -> Purge:
    """Remove the events older than the retention, oldest first, never the newest one.

    The only way rows leave the journal. The journal must verify first; the head is checkpointed; each
    batch records its last removed row (id and seal) in the checkpoint file before it is deleted, so the
    chain verifies from the new first row.
    """
    days = audit_retention_days()
    purge = Purge(days=days, cutoff=timezone.now() - timedelta(days=days), dry_run=dry_run)
    boundary = _first_kept(purge.cutoff)
    if dry_run:
        purge.removed = AccessEvent.objects.filter(pk__lt=boundary).count()
        return purge
    verdict = audit_verify()
    if not verdict.ok:
        raise JournalAltered(verdict.problems)
    audit_checkpoint(by="purge_audit", head=verdict.head)
    table = connection.ops.quote_name(AccessEvent._meta.db_table)
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PURGE_LOCK_KEY])
            batch = list(
                AccessEvent.objects.filter(pk__lt=boundary).order_by("id").values_list("id", "mac")[:batch_size]
            )
            if not batch:
                break
            through_id, through_mac = batch[-1]
            checkpoints.append(
                {
                    "kind": "purge",
                    "by": "purge_audit",
                    "through_id": through_id,
                    "through_mac": through_mac,
                    "removed": len(batch),
                    "before": purge.cutoff.isoformat(),
                    "days": days,
                }
            )
            allow_journal_purge()
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table} WHERE id <= %s", [through_id])  # noqa: S608 — quoted name
                purge.removed += cursor.rowcount
            purge.through_id = through_id
    if purge.removed:
        audit_record(
            actor=None,
            action="audit.purge",
            detail=f"{purge.removed} événement(s) antérieur(s) au {timezone.localdate(purge.cutoff):%d/%m/%Y} "
            f"supprimé(s), conservation {days} jours",
        )
        audit_checkpoint(by="purge_audit")
    return purge


def _first_kept(cutoff: datetime) -> int:
    """The id from which everything is kept: the first event at or after the cutoff, the newest at the latest."""
    newest = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first()
    if newest is None:
        return 0
    recent = AccessEvent.objects.filter(created_at__gte=cutoff).order_by("id").values_list("id", flat=True).first()
    return min(recent or newest, newest)
