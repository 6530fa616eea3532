"""Legal holds, and the retention purge: the schedule (retention.schedule) applied once.

The purge streams dossier ids in chunks and treats each dossier in its own transaction, locked and checked
again under the lock: a run stopped halfway leaves what it did done, and the next run picks up the rest.
An anonymised dossier keeps every non-personal field the dashboard and the census count.
"""

import datetime
import json
from dataclasses import dataclass, field
from importlib import import_module

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import ApiToken, Jurisdiction, LoginSession, Role, User
from audit.services import audit_record
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

CHUNK = 200
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


def _ids(queryset: QuerySet):
    """Ids in ascending chunks, never the whole set in memory (each chunk is queried afresh)."""
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not chunk:
            return
        yield from chunk
        last = chunk[-1]


# --- what the purge does to one dossier ------------------------------------------------------------------------


def _after_commit(names) -> None:
    names = [name for name in names if name]
    if names:
        transaction.on_commit(lambda: [delete_private(name) for name in names])


def _lock_due(kind: str, referral_id, now) -> Referral | None:
    """The dossier, locked, if it is still due under the lock (a hold may have been set meanwhile)."""
    return due_referrals(kind, now=now).select_for_update(of=("self",)).filter(pk=referral_id).first()


def _erase_files(referral: Referral, *, kinds=None) -> list[str]:
    """Clear the stored PDFs (or only `kinds` of decision documents), drop the attachments; the names to delete."""
    documents = DecisionDocument.objects.filter(decision__referral=referral).exclude(storage_name="")
    if kinds is not None:
        documents = documents.filter(kind__in=kinds)
    names = list(documents.values_list("storage_name", flat=True))
    documents.update(storage_name="")
    if kinds is None:
        reports = EvaluationReport.objects.filter(referral=referral).exclude(storage_name="")
        names += reports.values_list("storage_name", flat=True)
        reports.update(storage_name="")
        names += referral.documents.values_list("storage_name", flat=True)
        Attribution.objects.filter(referral=referral, agreement__isnull=False).update(agreement=None)
        referral.documents.all().delete()
    return names


def _revoke_operator(referral: Referral) -> int:
    return (
        AttributionGroupObjectPermission.objects.filter(content_object__referral=referral).delete()[0]
        + AttributionUserObjectPermission.objects.filter(content_object__referral=referral).delete()[0]
    )


def _delete_draft(referral_id, now) -> bool:
    with transaction.atomic():
        referral = _lock_due(schedule.DRAFT.kind, referral_id, now)
        if referral is None:
            return False
        names = list(referral.documents.values_list("storage_name", flat=True))
        audit_record(actor=None, action="retention.draft_delete", obj=referral)
        referral.delete()
        _after_commit(names)
    return True


def _anonymise(kind: str, referral_id, now) -> bool:
    """Erase every personal field and file; the states, dates, categories and levels the figures count stay."""
    with transaction.atomic():
        referral = _lock_due(kind, referral_id, now)
        if referral is None:
            return False
        names = _erase_files(referral)
        referral.victim, referral.author, referral.children = {}, {}, []
        referral.facts, referral.complaints, referral.measures = "", [], []
        referral.separation_date = referral.author_release_date = None
        referral.victim_identity_index = referral.victim_phone_index = referral.author_identity_index = ""
        referral.anonymised_at = timezone.now()
        referral.save()
        CaseEvent.objects.filter(referral=referral).update(comment="")
        Evaluation.objects.filter(referral=referral).update(
            interview={}, answers={}, eligibility={}, narrative="", judgement_reason="", returned_comment=""
        )
        EvaluationAddendum.objects.filter(evaluation__referral=referral).update(text="")
        Decision.objects.filter(referral=referral).update(reasoning="")
        DeviceReturn.objects.filter(referral=referral).update(notes="")
        Alert.objects.filter(attribution__referral=referral).update(notes="")
        FollowUpContact.objects.filter(referral=referral).update(notes="")
        LegalHold.objects.filter(referral=referral).update(reason="")
        Notification.objects.filter(referral=referral).delete()
        Deadline.objects.filter(referral=referral).delete()
        # Nobody reads it any more: only its CIDFF and parquet keep sight of the notice (their groups' view grant).
        revoked = _revoke_operator(referral)
        revoked += ReferralUserObjectPermission.objects.filter(content_object=referral).delete()[0]
        revoked += (
            ReferralGroupObjectPermission.objects.filter(content_object=referral)
            .exclude(permission__codename=VIEW)
            .delete()[0]
        )
        audit_record(
            actor=None,
            action="retention.anonymise",
            obj=referral,
            detail=json.dumps({"kind": kind, "files": len(names), "grants": revoked}),
        )
        _after_commit(names)
    return True


def _purge_documents(referral_id, now) -> bool:
    with transaction.atomic():
        referral = _lock_due(schedule.DOCUMENTS.kind, referral_id, now)
        if referral is None:
            return False
        names = _erase_files(referral)
        audit_record(actor=None, action="retention.documents", obj=referral, detail=json.dumps({"files": len(names)}))
        _after_commit(names)
    return True


def _purge_sheet(referral_id, now) -> bool:
    with transaction.atomic():
        referral = _lock_due(schedule.SHEET.kind, referral_id, now)
        if referral is None:
            return False
        names = _erase_files(referral, kinds=[DecisionDocumentKind.BENEFICIARY_SHEET])
        revoked = _revoke_operator(referral)
        detail = json.dumps({"files": len(names), "grants": revoked})
        audit_record(actor=None, action="retention.operator_sheet", obj=referral, detail=detail)
        _after_commit(names)
    return True


PER_DOSSIER = {
    schedule.DRAFT.kind: lambda pk, now: _delete_draft(pk, now),
    schedule.CLOSED.kind: lambda pk, now: _anonymise(schedule.CLOSED.kind, pk, now),
    schedule.MEASURE.kind: lambda pk, now: _anonymise(schedule.MEASURE.kind, pk, now),
    schedule.DOCUMENTS.kind: _purge_documents,
    schedule.SHEET.kind: _purge_sheet,
}


# --- the run ---------------------------------------------------------------------------------------------------


@dataclass
class Purge:
    dry_run: bool
    counts: dict = field(default_factory=lambda: dict.fromkeys(schedule.KINDS, 0))
    references: dict = field(default_factory=dict)  # kind → dossier references (dry run only)


def _delete_in_chunks(queryset: QuerySet) -> int:
    removed = 0
    for ids in _chunks(_ids(queryset)):
        with transaction.atomic():
            removed += queryset.model.objects.filter(pk__in=ids).delete()[1].get(queryset.model._meta.label, 0)
    return removed


def _chunks(ids):
    chunk = []
    for pk in ids:
        chunk.append(pk)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


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
        if kind in PER_DOSSIER and dry_run:
            purge.references[kind] = [
                reference
                for ids in _chunks(_ids(queryset))
                for reference in Referral.objects.filter(pk__in=ids).order_by("pk").values_list("reference", flat=True)
            ]
            purge.counts[kind] = len(purge.references[kind])
        elif kind in PER_DOSSIER:
            purge.counts[kind] = sum(PER_DOSSIER[kind](pk, now) for pk in _ids(queryset))
        else:
            purge.counts[kind] = queryset.count() if dry_run else _delete_in_chunks(queryset)
    if not dry_run:
        import_module(settings.SESSION_ENGINE).SessionStore.clear_expired()
        audit_record(actor=None, action="retention.purge", detail=json.dumps(purge.counts, sort_keys=True))
    return purge
