"""Who sees which decision, phone, attribution and alert — one SQL query each, on the grant tables."""

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from accounts.models import Role
from cidff.models import Evaluation, EvaluationKind, EvaluationStatus
from core.exceptions import NotFound
from parquet.models import (
    INITIAL_OUTCOMES,
    RENEWAL_OUTCOMES,
    Alert,
    Attribution,
    AttributionGroupObjectPermission,
    AttributionStatus,
    AttributionUserObjectPermission,
    Decision,
    Device,
    FollowUpContact,
    Outcome,
)
from referrals.selectors import referral_permission_q
from referrals.workflow import Status


def _active(user) -> bool:
    return user.is_authenticated and user.is_active


def _case_q(user, outer: str = "referral") -> Q:
    """The dossier's CIDFF and its parquet (never the referrer, never the operator)."""
    return (
        referral_permission_q(user=user, codename="change_referral", outer=outer)
        | referral_permission_q(user=user, codename="evaluate_referral", outer=outer)
        | referral_permission_q(user=user, codename="decide_referral", outer=outer)
    ) & ~Q(**{f"{outer}__referrer": user})


def attribution_sheet_q(user, outer: str = "pk") -> Q:
    """The operator's grant: the beneficiary sheet of an active attribution, nothing else."""
    perm = {"content_object": OuterRef(outer), "permission__codename": "view_attribution"}
    return Q(Exists(AttributionUserObjectPermission.objects.filter(user=user, **perm))) | Q(
        Exists(AttributionGroupObjectPermission.objects.filter(group__user=user, **perm))
    )


def decision_list_visible(*, user) -> QuerySet[Decision]:
    if not _active(user):
        return Decision.objects.none()
    return Decision.objects.filter(_case_q(user)).select_related("referral", "author", "evaluation")


def decision_get_visible(*, user, decision_id) -> Decision:
    try:
        return decision_list_visible(user=user).get(pk=decision_id)
    except (Decision.DoesNotExist, ValueError, TypeError):
        raise NotFound("Décision introuvable.") from None


def attribution_list_visible(*, user) -> QuerySet[Attribution]:
    """CIDFF and parquet see the periods of their dossiers; the operator sees active sheets only."""
    if not _active(user):
        return Attribution.objects.none()
    operator = attribution_sheet_q(user) & Q(status=AttributionStatus.ACTIVE)
    return Attribution.objects.filter(_case_q(user) | operator).select_related(
        "referral", "device", "decision", "referral__cidff"
    )


def attribution_get_visible(*, user, attribution_id) -> Attribution:
    try:
        return attribution_list_visible(user=user).get(pk=attribution_id)
    except (Attribution.DoesNotExist, ValueError, TypeError):
        raise NotFound("Attribution introuvable.") from None


def alert_list_visible(*, user) -> QuerySet[Alert]:
    if not _active(user):
        return Alert.objects.none()
    operator = attribution_sheet_q(user, outer="attribution") & Q(attribution__status=AttributionStatus.ACTIVE)
    return Alert.objects.filter(_case_q(user, outer="attribution__referral") | operator).select_related(
        "attribution", "attribution__referral", "reported_by"
    )


def device_list_visible(*, user) -> QuerySet[Device]:
    """Supervisors see the whole stock; a CIDFF coordinator her organisation's; nobody else."""
    if not _active(user):
        return Device.objects.none()
    if user.role == Role.SUPERVISOR:
        return Device.objects.select_related("organisation")
    if user.role == Role.CIDFF_COORDINATOR:
        return Device.objects.filter(organisation_id=user.organisation_id).select_related("organisation")
    return Device.objects.none()


def device_get_visible(*, user, device_id) -> Device:
    try:
        return device_list_visible(user=user).get(pk=device_id)
    except (Device.DoesNotExist, ValueError, TypeError):
        raise NotFound("Téléphone introuvable.") from None


def followup_list(*, referral) -> QuerySet[FollowUpContact]:
    return referral.follow_ups.select_related("author").order_by("-date", "-id")


def attribution_current(*, referral) -> Attribution | None:
    return referral.attributions.filter(status=AttributionStatus.ACTIVE).select_related("device").first()


def decision_inbox(*, user):
    """Dossiers waiting for this prosecutor's decision: urgent first, then the longest waiting.

    Each row carries its last sent report (id, kind, date) and the reservation date, if any.
    """
    from referrals.selectors import referral_list_visible

    last_sent = Evaluation.objects.filter(referral=OuterRef("pk"), status=EvaluationStatus.SENT).order_by(
        "-sent_at", "-id"
    )
    reservation = Decision.objects.filter(referral=OuterRef("pk"), outcome=Outcome.RESERVED).order_by("-signed_at")
    decided = Decision.objects.filter(evaluation_id=OuterRef("last_evaluation_id")).exclude(outcome=Outcome.RESERVED)
    return (
        referral_list_visible(user=user)
        .filter(referral_permission_q(user=user, codename="decide_referral"))
        .filter(status__in=[Status.REPORT_SENT, Status.RESERVED, Status.REEVALUATION])
        .annotate(
            last_evaluation_id=Subquery(last_sent.values("pk")[:1]),
            last_kind=Subquery(last_sent.values("kind")[:1]),
            last_sent_at=Subquery(last_sent.values("sent_at")[:1]),
            reserved_until=Subquery(reservation.values("reserved_until")[:1]),
            last_decided=Exists(decided),
        )
        # a re-evaluation waits for the parquet only once its renewal report is sent (and not yet decided)
        .filter(~Q(status=Status.REEVALUATION) | Q(last_kind=EvaluationKind.RENEWAL), last_decided=False)
        .order_by("-urgency", "last_sent_at", "id")
    )


def expected_outcomes(referral, evaluation) -> list[str]:
    """The outcomes a decision on this report may take now (the service checks it all again)."""
    if evaluation is None:
        return []
    renewal = evaluation.kind == EvaluationKind.RENEWAL
    if Decision.objects.filter(evaluation=evaluation).exclude(outcome=Outcome.RESERVED).exists():
        return []
    if renewal:
        return list(RENEWAL_OUTCOMES) if referral.status == Status.REEVALUATION else []
    if referral.status == Status.REPORT_SENT:
        return list(INITIAL_OUTCOMES)
    if referral.status == Status.RESERVED:
        return [Outcome.GRANTED, Outcome.REFUSED]
    return []
