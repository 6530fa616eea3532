"""Legal holds, and the retention purge: the schedule (retention.schedule) applied once.

The purge streams dossier ids in batches and treats each batch in its own transaction, set-based: its dossiers
are locked and checked again under the lock, and each one is journaled. A run stopped halfway leaves what it
did done, and the next run picks up the rest.
An anonymised dossier keeps every non-personal field the dashboard and the census count.
"""

import datetime
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import import_module
from itertools import groupby
from operator import itemgetter

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import ApiToken, Jurisdiction, LoginSession, Role, User
from audit.services import audit_record, audit_record_many
from cidff.models import Evaluation, EvaluationAddendum, EvaluationReport
from core.exceptions import Conflict, Forbidden, NotFound
from core.files import delete_private
from deadlines.models import Deadline
from notifications.models import Notification
from parquet.models import (
    Alert,
    Attribution,
    AttributionGroupObjectPermission,
    AttributionUserObjectPermission,
    Decision,
    DecisionDocument,
    DecisionDocumentKind,
    DeviceReturn,
    FollowUpContact,
)
from referrals.models import (
    CaseEvent,
    Referral,
    ReferralDocument,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
)
from referrals.services import referral_lock
from referrals.workflow import VIEW, Status
from retention import schedule
from retention.models import LegalHold
from retention.policies import may_hold

BATCH = 200  # dossiers locked and treated in one transaction
SCAN = 5000  # ids read by one query of what is due, which may read the whole table of dossiers
HOLD_REFUSED = "Seuls le parquet du dossier et le comité de pilotage posent ou lèvent un gel de conservation."

# --- legal holds -------------------------------------------------------------------------------------------


def _lock_for_hold(*, user: User, referral_id) -> Referral:
    """The supervisor acts from the admin on any dossier; anyone else only on a dossier they see (404)."""
    if user.role != Role.SUPERVISOR:
        return referral_lock(user=user, referral_id=referral_id)
    try:
        return Referral.objects.select_for_update().get(pk=referral_id)
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise NotFound("Dossier introuvable.") from None


def legal_hold_conflict(*, referral) -> str | None:
    """Why no hold can be put on the dossier now (None: it can)."""
    if referral.anonymised_at is not None:
        return "Ce dossier est déjà anonymisé : il n'y a plus rien à geler."
    if referral.legal_holds.filter(lifted_at__isnull=True).exists():
        return "Un gel de conservation est déjà en cours sur ce dossier."
    return None


def legal_hold_set(*, user: User, referral_id, reason: str) -> LegalHold:
    with transaction.atomic():
        referral = _lock_for_hold(user=user, referral_id=referral_id)
        if not may_hold(user, referral):
            raise Forbidden(HOLD_REFUSED)
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": ["Indiquez le motif du gel."]})
        problem = legal_hold_conflict(referral=referral)
        if problem:
            raise Conflict(problem)
        hold = LegalHold.objects.create(referral=referral, reason=reason, set_by=user)
        audit_record(actor=user, action="legal_hold.set", obj=referral, detail=f"gel {hold.pk}")
    return hold


def legal_hold_lift(*, user: User, referral_id) -> LegalHold:
    with transaction.atomic():
        referral = _lock_for_hold(user=user, referral_id=referral_id)
        if not may_hold(user, referral):
            raise Forbidden(HOLD_REFUSED)
        hold = referral.legal_holds.filter(lifted_at__isnull=True).first()
        if hold is None:
            raise Conflict("Aucun gel de conservation n'est en cours sur ce dossier.")
        hold.lifted_by, hold.lifted_at = user, timezone.now()
        hold.save(update_fields=["lifted_by", "lifted_at"])
        audit_record(actor=user, action="legal_hold.lift", obj=referral, detail=f"gel {hold.pk}")
    return hold


# --- what is due ---------------------------------------------------------------------------------------------


def _due(rule: schedule.Rule, name: str, *, via: str = "cidff__jurisdiction", now=None, day: bool = False) -> Q:
    """`name` (a date if `day`) older than the rule's duration in the jurisdiction reached through `via`."""
    now = now or timezone.now()
    q = Q(pk__in=[])
    for jurisdiction in Jurisdiction.objects.all():
        cutoff = now - rule.duration(jurisdiction)
        q |= Q(**{via: jurisdiction, f"{name}__lt": timezone.localdate(cutoff) if day else cutoff})
    return q


def _held(outer: str = "pk"):
    return Exists(LegalHold.objects.filter(referral=OuterRef(outer), lifted_at__isnull=True))


def _kept() -> QuerySet[Referral]:
    """Dossiers the purge may touch: neither anonymised already nor held."""
    return Referral.objects.filter(anonymised_at__isnull=True).exclude(_held())


def _has_measure():
    return Exists(Attribution.objects.filter(referral=OuterRef("pk")))


def _stored_files():
    return (
        Exists(ReferralDocument.objects.filter(referral=OuterRef("pk")))
        | Exists(EvaluationReport.objects.filter(referral=OuterRef("pk")).exclude(storage_name=""))
        | Exists(DecisionDocument.objects.filter(decision__referral=OuterRef("pk")).exclude(storage_name=""))
    )


def _operator_traces():
    sheets = DecisionDocument.objects.filter(
        decision__referral=OuterRef("pk"), kind=DecisionDocumentKind.BENEFICIARY_SHEET
    ).exclude(storage_name="")
    return (
        Exists(sheets)
        | Exists(AttributionGroupObjectPermission.objects.filter(content_object__referral=OuterRef("pk")))
        | Exists(AttributionUserObjectPermission.objects.filter(content_object__referral=OuterRef("pk")))
    )


def due_referrals(kind: str, now=None) -> QuerySet[Referral]:
    """The dossiers past their retention date for one dossier-bound kind (not held, not anonymised)."""
    closed = _kept().filter(status=Status.CLOSED)
    if kind == schedule.DRAFT.kind:
        return _kept().filter(_due(schedule.DRAFT, "updated_at", now=now), status=Status.DRAFT, submitted_at=None)
    if kind == schedule.CLOSED.kind:
        return closed.filter(_due(schedule.CLOSED, "closed_at", now=now)).exclude(_has_measure())
    if kind == schedule.MEASURE.kind:
        return closed.filter(_has_measure(), _due(schedule.MEASURE, "closed_at", now=now))
    if kind == schedule.DOCUMENTS.kind:
        # anonymised dossiers too: a PDF whose rendering finished after the anonymisation still goes
        unheld = Referral.objects.exclude(_held()).filter(status=Status.CLOSED)
        return unheld.filter(_stored_files(), _due(schedule.DOCUMENTS, "closed_at", now=now))
    if kind == schedule.SHEET.kind:
        return _kept().filter(_operator_traces(), _due(schedule.SHEET, "device_return__returned_on", now=now, day=True))
    raise ValueError(kind)


def due_notifications(now=None) -> QuerySet[Notification]:
    rule = schedule.NOTIFICATIONS
    return Notification.objects.filter(_due(rule, "created_at", via="referral__cidff__jurisdiction", now=now)).exclude(
        _held("referral_id")
    )


def due_deadlines(now=None) -> QuerySet[Deadline]:
    rule = schedule.DEADLINES
    return Deadline.objects.filter(
        _due(rule, "referral__closed_at", via="referral__cidff__jurisdiction", now=now),
        referral__status=Status.CLOSED,
    ).exclude(_held("referral_id"))


def due_tokens(now=None) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(expires_at__lt=(now or timezone.now()) - schedule.TOKEN_GRACE)


def due_sessions(now=None) -> QuerySet[LoginSession]:
    """Older than the absolute session lifetime (plus a grace): their Django session cannot be alive."""
    lifetime = datetime.timedelta(seconds=settings.VIGIE_SESSION_ABSOLUTE_SECONDS) + schedule.SESSION_GRACE
    return LoginSession.objects.filter(created_at__lt=(now or timezone.now()) - lifetime)


DOSSIER_KINDS = (schedule.DRAFT, schedule.CLOSED, schedule.MEASURE, schedule.DOCUMENTS, schedule.SHEET)


def _batches(queryset: QuerySet) -> Iterator[list[int]]:
    """Ids in ascending batches, read `SCAN` at a time: never the whole set in memory, each read afresh."""
    last = 0
    while True:
        ids = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:SCAN])
        for start in range(0, len(ids), BATCH):
            yield ids[start : start + BATCH]
        if len(ids) < SCAN:
            return
        last = ids[-1]


# --- what the purge does to a batch of dossiers -----------------------------------------------------------------


def _after_commit(names) -> None:
    names = [name for name in names if name]
    if names:
        transaction.on_commit(lambda: [delete_private(name) for name in names])


def _lock_due(kind: str, ids: list[int], now) -> list[int]:
    """Those of `ids` still due under the lock (a hold may have been set meanwhile), locked, ascending."""
    locked = due_referrals(kind, now=now).filter(pk__in=ids).select_for_update(of=("self",))
    return list(locked.order_by("pk").values_list("pk", flat=True))


def _deleted_per_dossier(queryset: QuerySet, referral: str) -> Counter:
    """Delete the rows; how many each dossier lost (`referral`: the path to the dossier's id)."""
    rows = list(queryset.values_list("pk", referral))
    if rows:
        queryset.model.objects.filter(pk__in=[pk for pk, _ in rows]).delete()
    return Counter(referral_id for _, referral_id in rows)


def _erase_files(ids: list[int], *, kinds=None) -> tuple[list[str], Counter]:
    """Clear the stored PDFs (or only `kinds` of decision documents), drop the attachments: the names to delete
    once committed, and how many each dossier had."""
    documents = DecisionDocument.objects.filter(decision__referral__in=ids).exclude(storage_name="")
    if kinds is not None:
        documents = documents.filter(kind__in=kinds)
    found = list(documents.values_list("decision__referral_id", "storage_name"))
    documents.update(storage_name="")
    if kinds is None:
        reports = EvaluationReport.objects.filter(referral__in=ids).exclude(storage_name="")
        found += reports.values_list("referral_id", "storage_name")
        reports.update(storage_name="")
        attachments = ReferralDocument.objects.filter(referral__in=ids)
        found += attachments.values_list("referral_id", "storage_name")
        Attribution.objects.filter(referral__in=ids, agreement__isnull=False).update(agreement=None)
        attachments.delete()
    return [name for _, name in found], Counter(referral_id for referral_id, _ in found)


def _revoke_operator(ids: list[int]) -> Counter:
    path = "content_object__referral_id"
    return _deleted_per_dossier(
        AttributionGroupObjectPermission.objects.filter(content_object__referral__in=ids), path
    ) + _deleted_per_dossier(AttributionUserObjectPermission.objects.filter(content_object__referral__in=ids), path)


def _delete_drafts(kind: str, ids: list[int]) -> tuple[list[str], dict]:
    names = list(ReferralDocument.objects.filter(referral__in=ids).values_list("storage_name", flat=True))
    Referral.objects.filter(pk__in=ids).delete()
    return names, dict.fromkeys(ids, "")


def _anonymise(kind: str, ids: list[int]) -> tuple[list[str], dict]:
    """Erase every personal field and file; the states, dates, categories and levels the figures count stay."""
    names, files = _erase_files(ids)
    now = timezone.now()
    Referral.objects.filter(pk__in=ids).update(
        victim={},
        author={},
        children=[],
        facts="",
        complaints=[],
        measures=[],
        separation_date=None,
        author_release_date=None,
        victim_identity_index="",
        victim_phone_index="",
        author_identity_index="",
        anonymised_at=now,
        updated_at=now,
    )
    CaseEvent.objects.filter(referral__in=ids).update(comment="")
    Evaluation.objects.filter(referral__in=ids).update(
        interview={}, answers={}, eligibility={}, narrative="", judgement_reason="", returned_comment=""
    )
    EvaluationAddendum.objects.filter(evaluation__referral__in=ids).update(text="")
    Decision.objects.filter(referral__in=ids).update(reasoning="")
    DeviceReturn.objects.filter(referral__in=ids).update(notes="")
    Alert.objects.filter(attribution__referral__in=ids).update(notes="")
    FollowUpContact.objects.filter(referral__in=ids).update(notes="")
    LegalHold.objects.filter(referral__in=ids).update(reason="")
    Notification.objects.filter(referral__in=ids).delete()
    Deadline.objects.filter(referral__in=ids).delete()
    # Nobody reads it any more: only its CIDFF and parquet keep sight of the notice (their groups' view grant).
    revoked = _revoke_operator(ids)
    revoked += _deleted_per_dossier(
        ReferralUserObjectPermission.objects.filter(content_object__in=ids), "content_object"
    )
    revoked += _deleted_per_dossier(
        ReferralGroupObjectPermission.objects.filter(content_object__in=ids).exclude(permission__codename=VIEW),
        "content_object",
    )
    return names, {pk: json.dumps({"kind": kind, "files": files[pk], "grants": revoked[pk]}) for pk in ids}


def _purge_documents(kind: str, ids: list[int]) -> tuple[list[str], dict]:
    names, files = _erase_files(ids)
    return names, {pk: json.dumps({"files": files[pk]}) for pk in ids}


def _purge_sheet(kind: str, ids: list[int]) -> tuple[list[str], dict]:
    names, files = _erase_files(ids, kinds=[DecisionDocumentKind.BENEFICIARY_SHEET])
    revoked = _revoke_operator(ids)
    return names, {pk: json.dumps({"files": files[pk], "grants": revoked[pk]}) for pk in ids}


# kind → (journal action, treatment of the locked dossiers: the file names to delete, each one's journal detail)
TREATMENTS = {
    schedule.DRAFT.kind: ("retention.draft_delete", _delete_drafts),
    schedule.CLOSED.kind: ("retention.anonymise", _anonymise),
    schedule.MEASURE.kind: ("retention.anonymise", _anonymise),
    schedule.DOCUMENTS.kind: ("retention.documents", _purge_documents),
    schedule.SHEET.kind: ("retention.operator_sheet", _purge_sheet),
}


def _journal(action: str, details: dict) -> None:
    """One event per dossier, in the order given; a run of equal details is appended at once."""
    for detail, run in groupby(details.items(), key=itemgetter(1)):
        audit_record_many(actor=None, action=action, objects=[Referral(pk=pk) for pk, _ in run], detail=detail)


def _purge_batch(kind: str, ids: list[int], now) -> int:
    """Treat the batch's dossiers still due, in one transaction; their files are deleted once it commits."""
    action, treat = TREATMENTS[kind]
    with transaction.atomic():
        locked = _lock_due(kind, ids, now)
        if locked:
            names, details = treat(kind, locked)
            _journal(action, details)
            _after_commit(names)
    return len(locked)


# --- the run ---------------------------------------------------------------------------------------------------


@dataclass
class Purge:
    dry_run: bool
    counts: dict = field(default_factory=lambda: dict.fromkeys(schedule.KINDS, 0))
    references: dict = field(default_factory=dict)  # kind → dossier references (dry run only)


def _delete_in_batches(queryset: QuerySet) -> int:
    removed = 0
    for ids in _batches(queryset):
        with transaction.atomic():
            removed += queryset.model.objects.filter(pk__in=ids).delete()[1].get(queryset.model._meta.label, 0)
    return removed


def _plan(now) -> list[tuple[str, QuerySet]]:
    """(kind, queryset) in the order a run applies them; each leaves out the dossiers an earlier kind removes,
    so that a dry run counts what the run will do."""
    gone = Q(pk__in=[])
    plan = []
    for rule in DOSSIER_KINDS:
        plan.append((rule.kind, due_referrals(rule.kind, now=now).exclude(gone)))
        if rule in (schedule.DRAFT, schedule.CLOSED, schedule.MEASURE):
            gone |= Q(pk__in=due_referrals(rule.kind, now=now).values("pk"))
    return plan + [
        (schedule.NOTIFICATIONS.kind, due_notifications(now).exclude(Q(referral__in=Referral.objects.filter(gone)))),
        (schedule.DEADLINES.kind, due_deadlines(now).exclude(Q(referral__in=Referral.objects.filter(gone)))),
        (schedule.TOKENS, due_tokens(now)),
        (schedule.SESSIONS, due_sessions(now)),
    ]


def retention_purge(*, dry_run: bool = False) -> Purge:
    """Apply the schedule once (anonymisation before documents: an anonymised dossier is no longer due);
    one journal line per run with the counts, none for a dry run, which only counts and lists references."""
    now = timezone.now()
    purge = Purge(dry_run=dry_run)
    for kind, queryset in _plan(now):
        if kind in TREATMENTS and dry_run:
            purge.references[kind] = [
                reference
                for ids in _batches(queryset)
                for reference in Referral.objects.filter(pk__in=ids).order_by("pk").values_list("reference", flat=True)
            ]
            purge.counts[kind] = len(purge.references[kind])
        elif kind in TREATMENTS:
            purge.counts[kind] = sum(_purge_batch(kind, ids, now) for ids in _batches(queryset))
        else:
            purge.counts[kind] = queryset.count() if dry_run else _delete_in_batches(queryset)
    if not dry_run:
        import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
        audit_record(actor=None, action="retention.purge", detail=json.dumps(purge.counts, sort_keys=True))
    return purge
