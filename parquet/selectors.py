"""Who sees which decision, phone, attribution and alert — one SQL query each, on the grant tables."""

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models import Value as V
from django.db.models.functions import Replace

from cidff.instruments import level_label
from cidff.models import Evaluation, EvaluationKind
from cidff.selectors import LIST_FIELDS, evaluation_latest_sent, evaluations_sent_latest_first
from core.fields import joined_encrypted_field_names
from parquet.models import (
    INITIAL_OUTCOMES,
    RENEWAL_OUTCOMES,
    Alert,
    Attribution,
    AttributionStatus,
    Decision,
    Device,
    DeviceStatus,
    FollowUpContact,
    Outcome,
)
from parquet.policies import alert_policy, attribution_policy, decision_policy, device_policy
from referrals.indexes import normalise_phone, phone_index
from referrals.policies import referral_policy
from referrals.workflow import BY_ACTION, Status, Transition


def decision_transition(outcome: str) -> Transition:
    """The row of the transition table a decision with this outcome takes."""
    return BY_ACTION[f"decision_{outcome}"]


# The states in which the parquet may decide something (those the decision transitions start from).
DECIDING_STATES = frozenset().union(*(decision_transition(outcome).sources for outcome in Outcome.values))


def decision_awaited(*, user, referral, action) -> bool:
    """A decision of this kind is awaited on the dossier's latest report (computed once per dossier)."""
    cache = referral.__dict__
    if "_expected_outcomes" not in cache:
        cache["_expected_outcomes"] = expected_outcomes(referral, evaluation_latest_sent(referral=referral))
    return action.removeprefix("decision_") in cache["_expected_outcomes"]


def decision_list_visible(*, user) -> QuerySet[Decision]:
    return decision_policy.instances_user_has_permission_for(user)


def decision_list_of_dossier(*, user, referral) -> QuerySet[Decision]:
    """The decisions of one dossier `user` may see (its page's panels: no grant subquery when it is her case)."""
    return decision_policy.of_case(user, referral)


def decision_get_visible(*, user, decision_id) -> Decision:
    return decision_policy.get_visible(user, decision_id)


def attribution_list_visible(*, user) -> QuerySet[Attribution]:
    return attribution_policy.instances_user_has_permission_for(user)


def attribution_list_of_dossier(*, user, referral) -> QuerySet[Attribution]:
    return attribution_policy.of_case(user, referral)


def attribution_get_visible(*, user, attribution_id) -> Attribution:
    return attribution_policy.get_visible(user, attribution_id)


def alert_list_visible(*, user) -> QuerySet[Alert]:
    return alert_policy.instances_user_has_permission_for(user)


def alert_list_of_dossier(*, user, referral) -> QuerySet[Alert]:
    return alert_policy.of_case(user, referral)


def device_list_visible(*, user) -> QuerySet[Device]:
    return device_policy.instances_user_has_permission_for(user)


def device_get_visible(*, user, device_id) -> Device:
    return device_policy.get_visible(user, device_id)


def followup_list(*, referral) -> QuerySet[FollowUpContact]:
    return referral.follow_ups.select_related("author").order_by("-date", "-id")


def attribution_current(*, referral) -> Attribution | None:
    return referral.attributions.filter(status=AttributionStatus.ACTIVE).select_related("device").first()


def decision_inbox(*, user):
    """Dossiers waiting for this prosecutor's decision: urgent first, then the longest waiting.

    Each row carries its last sent report (id, kind, date) and the reservation date, if any.
    """
    last_sent = evaluations_sent_latest_first(Evaluation.objects.filter(referral=OuterRef("pk")))
    reservation = Decision.objects.filter(referral=OuterRef("pk"), outcome=Outcome.RESERVED).order_by("-id")
    decided = Decision.objects.filter(evaluation_id=OuterRef("last_evaluation_id")).exclude(outcome=Outcome.RESERVED)
    return (
        referral_policy.instances_user_has_permission_for(user, "decide")
        .filter(status__in=DECIDING_STATES)
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
    """The outcomes a decision on this report may take now: those the transition table allows from
    the dossier's state, once per report (the service checks it all again)."""
    if evaluation is None:
        return []
    if Decision.objects.filter(evaluation=evaluation).exclude(outcome=Outcome.RESERVED).exists():
        return []
    outcomes = RENEWAL_OUTCOMES if evaluation.kind == EvaluationKind.RENEWAL else INITIAL_OUTCOMES
    return [outcome for outcome in outcomes if referral.status in decision_transition(outcome).sources]


# --- the phone stock's work queues -------------------------------------------------------------------------

# Queue slug (in the address) → label. "retour": a phone still assigned whose measure no longer runs.
DEVICE_QUEUES = {
    "en-stock": "En stock",
    "attribues": "Attribués",
    "retour": "Attendus en retour",
    "defectueux": "Défectueux",
    "perdus": "Perdus",
}


def _device_queue_q(queue: str) -> Q:
    running = Exists(Attribution.objects.filter(device=OuterRef("pk"), status=AttributionStatus.ACTIVE))
    return {
        "en-stock": Q(status=DeviceStatus.IN_STOCK),
        "attribues": Q(running, status=DeviceStatus.ASSIGNED),
        "retour": Q(~running, status=DeviceStatus.ASSIGNED),
        "defectueux": Q(status=DeviceStatus.DEFECTIVE),
        "perdus": Q(status=DeviceStatus.LOST),
    }[queue]


def device_queue_counts(devices: QuerySet[Device]) -> dict[str, int]:
    """{queue: count, "all": total} of the visible phones, in one query."""
    return devices.order_by().aggregate(
        all=Count("id"), **{queue: Count("id", filter=_device_queue_q(queue)) for queue in DEVICE_QUEUES}
    )


def device_list_filtered(*, user, queue: str = "", status: str = "", search: str = "") -> QuerySet[Device]:
    """The visible phones of one queue, one state, and whose serial (or call number) contains `search`."""
    devices = device_list_visible(user=user).select_related("organisation")
    if queue:
        devices = devices.filter(_device_queue_q(queue))
    if status:
        devices = devices.filter(status=status)
    if search:
        devices = devices.filter(Q(serial__icontains=search) | Q(phone_number__icontains=search))
    return devices


# --- the operator's beneficiary list ------------------------------------------------------------------------


def sheet_list_visible(*, user, phone: str = "") -> QuerySet[Attribution]:
    """The running measures the user may see; `phone`: the number she calls from — her own phone, matched by its
    blind index (no table is decrypted), or the alert phone's number."""
    attributions = attribution_list_visible(user=user).filter(status=AttributionStatus.ACTIVE)
    if phone:
        number = normalise_phone(phone)
        if not number:
            return attributions.none()
        device_digits = F("device__phone_number")
        for separator in (" ", ".", "-"):
            device_digits = Replace(device_digits, V(separator), V(""))
        attributions = attributions.annotate(device_digits=device_digits).filter(
            Q(referral__victim_phone_index=phone_index(phone)) | Q(device_digits=number)
        )
    rows = attributions.select_related("referral", "device")
    return rows.defer(*joined_encrypted_field_names(rows))  # a reference, a phone number, dates: nothing decrypted


def sent_evaluations_prefetch(prefix: str = "referral__") -> Prefetch:
    """A list of sheets reads every retained level in one query (`retained_danger_level` uses it)."""
    sent = evaluations_sent_latest_first(Evaluation.objects.only(*LIST_FIELDS).prefetch_related("instrument"))
    return Prefetch(f"{prefix}evaluations", queryset=sent, to_attr="sent_evaluations")


def retained_danger_level(*, referral) -> dict | None:
    """{code, label}: the level retained by the last sent evaluation (its final level) — the only part of an
    evaluation the operator's beneficiary sheet shows; None before any sent evaluation."""
    sent = getattr(referral, "sent_evaluations", None)  # prefetched by a list
    if sent is None:
        sent = evaluations_sent_latest_first(referral.evaluations.select_related("instrument"))[:1]
    evaluation = next(iter(sent), None)
    if evaluation is None or not evaluation.final_level:
        return None
    try:
        label = level_label(evaluation.instrument.definition, evaluation.final_level)
    except (StopIteration, KeyError, TypeError):
        label = evaluation.final_level
    return {"code": evaluation.final_level, "label": label}
