"""Every read that decides who sees which dossier: one SQL query joined on the grant tables."""

from dataclasses import dataclass

from django.core.paginator import Page
from django.db.models import BooleanField, Case, Count, Exists, FilteredRelation, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind, Role, User
from audit.services import audit_record_many
from core.exceptions import Forbidden
from core.fields import encrypted_field_names
from core.listing import Listing, choice, integer, text
from referrals.hooks import guards_pass
from referrals.indexes import search_indexes
from referrals.models import CaseEvent, DuplicateAnswer, DuplicateVerdict, Referral, ReferralDocument, Urgency
from referrals.policies import document_policy, referral_grants, referral_policy
from referrals.queues import ALL, CLOSED, EVERY, OPEN, OPEN_STATES, SINCE, Queue, queue_q, queues_for
from referrals.workflow import SYSTEM, TRANSITIONS, VIEW, Audience, ClosureReason, Status


def referral_list_visible(*, user) -> QuerySet[Referral]:
    return referral_policy.instances_user_has_permission_for(user, "view")


def referral_count_visible(*, user) -> int:
    return referral_policy.count_visible(user)


def referral_newest_visible_ids(*, user, offset: int, limit: int):
    return referral_policy.newest_visible_ids(user, offset=offset, limit=limit)


def referral_get_visible(*, user, referral_id) -> Referral:
    return referral_policy.get_visible(user, referral_id)


def referral_inbox(*, user) -> QuerySet[Referral]:
    """A CIDFF's open dossiers, urgent first, then oldest first."""
    return (
        referral_list_visible(user=user)
        .exclude(status__in=[Status.DRAFT, Status.CLOSED])
        .order_by("-urgency", "submitted_at", "id")
    )


def evaluators_with_workload(*, cidff_id, exclude=None) -> QuerySet:
    """The CIDFF's active evaluators, each with `workload`: her dossiers in evaluation now (one query)."""
    evaluators = User.objects.filter(role=Role.EVALUATOR, organisation_id=cidff_id, is_active=True)
    if exclude:
        evaluators = evaluators.exclude(pk=exclude)
    # the state is a condition of the join, not a filter of the count: PostgreSQL then reads her dossiers in
    # evaluation only, not the hundreds she has closed over the years
    in_evaluation = FilteredRelation(
        "referrals_to_evaluate",
        condition=Q(referrals_to_evaluate__status__in=(Status.EVALUATION, Status.INFO_REQUESTED, Status.REEVALUATION)),
    )
    return (
        evaluators.annotate(in_evaluation=in_evaluation)
        .annotate(workload=Count("in_evaluation"))
        .order_by("last_name", "first_name", "id")
    )


def referral_events(*, referral: Referral) -> QuerySet[CaseEvent]:
    return referral.events.select_related("actor").order_by("id")


def document_list(*, user, referral: Referral) -> QuerySet[ReferralDocument]:
    if not referral_policy.may_read_content(user, referral):
        raise Forbidden("Les pièces d'un signalement transmis ne sont plus consultables par le référent.")
    return referral.documents.select_related("uploaded_by").order_by("id")


def document_get_visible(*, user, document_id) -> ReferralDocument:
    return document_policy.get_visible(user, document_id)


def referral_warnings(*, referral: Referral) -> list[str]:
    """Points the CIDFF must know before going further (not blocking at this stage)."""
    warnings = []
    if referral.cohabiting:
        warnings.append(
            "La victime cohabite avec l'auteur : le Téléphone Grave Danger exige la non-cohabitation "
            "(art. 41-3-1 du code de procédure pénale). Une autre orientation peut être nécessaire."
        )
    return warnings


def referral_coordinators(*, referral: Referral) -> QuerySet:
    """The active coordinators of the CIDFF that holds the dossier."""
    return User.objects.filter(is_active=True, role=Role.CIDFF_COORDINATOR, organisation_id=referral.cidff_id)


def referral_parquet(*, referral: Referral) -> Organisation | None:
    """The parquet of the jurisdiction of the CIDFF holding the dossier (the one that decides)."""
    return Organisation.objects.filter(
        kind=OrganisationKind.PARQUET, jurisdiction_id=referral.cidff.jurisdiction_id, is_active=True
    ).first()


def referral_prosecutors(*, referral: Referral) -> QuerySet:
    """The active prosecutors of the parquets of the jurisdiction of the CIDFF holding the dossier."""
    return User.objects.filter(
        is_active=True,
        role=Role.PROSECUTOR,
        organisation__kind=OrganisationKind.PARQUET,
        organisation__jurisdiction_id=referral.cidff.jurisdiction_id,
    )


def audience_users(*, referral: Referral, audiences) -> QuerySet:
    """The active users an audience of the workflow stands for on this dossier (one query)."""
    users = User.objects.none()
    for audience in audiences:
        if audience == Audience.REFERRER:
            users |= User.objects.filter(pk=referral.referrer_id, is_active=True)
        elif audience == Audience.COORDINATORS:
            users |= referral_coordinators(referral=referral)
        elif audience == Audience.EVALUATOR:
            users |= User.objects.filter(pk=referral.evaluator_id, is_active=True)
        elif audience == Audience.PARQUET:
            users |= referral_prosecutors(referral=referral)
    return users


def referral_viewers(*, referral: Referral) -> QuerySet:
    """Active users allowed to see the dossier (one query on the grant tables)."""
    return User.objects.filter(is_active=True).filter(referral_grants.holders_q(obj=referral, codename=VIEW))


def referral_actions(*, user, referral: Referral) -> list[str]:
    """The transitions `user` may take on the dossier now: what the page draws and the API lists.

    Offered when the state allows it, the dossier policy entitles the user, and the apps' registered
    guards find what the step needs (a validated evaluation to send, a report to decide on).
    """
    return [
        transition.action
        for transition in TRANSITIONS
        if referral.status in transition.sources
        and transition.by != SYSTEM
        and referral_policy.user_has_permission_for_instance(user, transition.by, referral)
        and guards_pass(transition.action, user=user, referral=referral)
    ]


OUTCOME_NOTICES = {
    Status.GRANTED: "Téléphone attribué — remise en cours d'organisation",
    Status.ACTIVE: "Téléphone attribué",
    Status.REEVALUATION: "Téléphone attribué",
    Status.ENDED: "Mesure terminée",
    Status.RESERVED: "Téléphone réservé dans l'attente de la libération de l'auteur",
}
CLOSURE_NOTICES = {
    ClosureReason.REFUSED: "Non attribué — autre orientation",
    ClosureReason.INELIGIBLE: "Non éligible au dispositif — autre orientation",
    ClosureReason.REDIRECTED: "Réorienté vers un autre dispositif",
    ClosureReason.MEASURE_ENDED: "Mesure terminée",
}


def referral_outcome_notice(*, referral) -> str:
    """What the referrer is told of the outcome: a short status, never a reason or an evaluation."""
    if referral.status == Status.CLOSED:
        return (
            CLOSURE_NOTICES.get(referral.closure_reason) or referral.get_closure_reason_display() or "Dossier clôturé"
        )
    return OUTCOME_NOTICES.get(referral.status, "")


# --- possible duplicates and exact search (blind indexes, see referrals.indexes) ----------------------------


def referral_sees_duplicates(*, user, referral: Referral) -> bool:
    """Only the CIDFF coordination and the parquet holding the dossier learn that other dossiers exist."""
    return referral_policy.user_has_permission_for_instance(
        user, "coordinate", referral
    ) or referral_policy.user_has_permission_for_instance(user, "decide", referral)


def _answered(referral: Referral, verdict: str) -> Exists:
    """True for rows about which the coordination gave `verdict` with `referral` (pairs stored in id order)."""
    pair = Q(referral=referral, other=OuterRef("pk")) | Q(referral=OuterRef("pk"), other=referral)
    return Exists(DuplicateAnswer.objects.filter(pair, verdict=verdict))


def _live_others(referral: Referral) -> QuerySet[Referral]:
    return Referral.objects.exclude(pk=referral.pk).exclude(status=Status.DRAFT).filter(anonymised_at__isnull=True)


def referral_possible_duplicates(*, user, referral: Referral) -> list[dict]:
    """Other dossiers sharing the woman's identity or phone index: [{id, reference, organisation, linked}].

    One query whatever the number of matches: whether the user may see each one is computed in SQL by the
    dossier policy. `id` and `reference` are None for a dossier she may not see; `organisation` is the CIDFF
    holding it (whom to contact), never any of its content. Matches the coordination dismissed are left out.
    Each match shown is journaled. Anyone but the coordination and the parquet gets [] and learns nothing.
    """
    if not referral_sees_duplicates(user=user, referral=referral):
        return []
    same = Q()
    for field in ("victim_identity_index", "victim_phone_index"):
        if getattr(referral, field):
            same |= Q(**{field: getattr(referral, field)})
    if not same:
        return []
    matches = list(
        _live_others(referral)
        .filter(same)
        .annotate(
            dismissed=_answered(referral, DuplicateVerdict.DISMISSED),
            linked=_answered(referral, DuplicateVerdict.LINKED),
            seen=Case(
                When(referral_policy.visible_row_q(user), then=Value(True)),
                default=False,
                output_field=BooleanField(),
            ),
        )
        .filter(dismissed=False)
        .select_related("cidff")
        .only("pk", "reference", "cidff__name")
        .order_by("id")
    )
    audit_record_many(actor=user, action="duplicate.shown", objects=matches, detail=f"sur {referral.reference}")
    return [
        {
            "id": match.pk if match.seen else None,
            "reference": match.reference if match.seen else None,
            "organisation": match.cidff.name,
            "linked": match.linked and match.seen,
        }
        for match in matches
    ]


def referral_same_author_count(*, user, referral: Referral) -> int | None:
    """For the parquet only: how many other dossiers of the jurisdiction name the same author (None for others)."""
    if not referral_policy.user_has_permission_for_instance(user, "decide", referral):
        return None
    if not referral.author_identity_index:
        return 0
    return (
        _live_others(referral)
        .filter(
            author_identity_index=referral.author_identity_index,
            cidff__jurisdiction_id=referral.cidff.jurisdiction_id,
        )
        .count()
    )


def referral_linked_earlier(*, referral: Referral) -> QuerySet[Referral]:
    """Earlier dossiers the coordination linked to this one as the same woman (not anonymised)."""
    linked = DuplicateAnswer.objects.filter(referral=OuterRef("pk"), other=referral, verdict=DuplicateVerdict.LINKED)
    return Referral.objects.filter(Exists(linked), anonymised_at__isnull=True).order_by("id")


def referral_search_q(text: str) -> Q | None:
    """Rows whose victim (identity or phone) or author matches a typed "NOM Prénom JJ/MM/AAAA" or phone number
    exactly, through the blind indexes: nothing is decrypted. None: the text is neither, it finds nothing."""
    match = Q()
    for field, index in search_indexes(text).items():
        match |= Q(**{field: index})
    return match or None


def referral_search(*, user, text: str) -> QuerySet[Referral]:
    """The visible dossiers matching a typed query (see `referral_search_q`)."""
    match = referral_search_q(text)
    return Referral.objects.none() if match is None else referral_list_visible(user=user).filter(match)


# --- work queues: the dossier lists by what the person must do next (see referrals.queues) ------------------

QUEUE_SORTS = {
    "urgence": ("-urgency", SINCE, "id"),  # urgent first, then the longest waiting
    "depuis": (SINCE, "id"),
    "transmis": ("submitted_at", "id"),
    "reference": ("reference",),
    "modifie": ("updated_at", "id"),
}

FILTER_FIELDS = {"urgence": "urgency", "etat": "status", "evaluatrice": "evaluator_id", "cidff": "cidff_id"}


@dataclass
class WorkQueues:
    """One list request: the role's queues with their counts, the chosen one, its page of dossiers."""

    queues: list[dict]  # {"queue", "count", "url", "current"}
    queue: Queue
    listing: Listing
    page: Page
    searching: bool
    evaluators: list  # [(id, name)] for the coordination's filter
    cidffs: list  # [(id, name)] for the parquet's and the supervisors' filter


def referral_queue_q(*, user, code: str) -> Q | None:
    """The rows of the user's work queue `code` (None: no such queue for her role), as the lists count them."""
    queues = queues_for(user)
    queue = next((queue for queue in queues if queue.code == code), None)
    return None if queue is None else queue_q(queue, user=user, now=timezone.now(), among=queues)


def referral_text_q(*, user, text: str) -> Q:
    """A reference (exact or prefix, from 4 characters) or, for those who may, the woman's "NOM Prénom JJ/MM/AAAA"
    or phone through the blind indexes (nothing decrypted). Nothing matches an unrecognised text."""
    match = Q(pk__in=[])
    if len(text) >= 4:
        match |= Q(reference__istartswith=text.upper())
    if referral_policy.may_search_people(user):
        people = referral_search_q(text)
        if people is not None:
            match |= people
    return match


def referral_work_queues(*, user, params, queues=None) -> WorkQueues:
    """The dossiers `user` sees, in the queues of her role, searched, filtered, sorted and paginated by `params`
    (request.GET: file, q, urgence, etat, evaluatrice, cidff, sort, page; bad values fall back to defaults).

    Counts: one aggregate query for every queue (with the search and filters applied), over the open dossiers
    alone when nothing narrows the list (the closed ones and the total then come from the grant tables); the
    page: one select whatever its length. The default queue is the most urgent non-empty one (all dossiers when
    searching).
    """
    now = timezone.now()
    queues = queues if queues is not None else queues_for(user)
    visible = referral_list_visible(user=user)
    filters = {
        "file": choice(queue.code for queue in queues),
        "q": text(200),
        "urgence": choice(Urgency.values),
        "etat": choice(Status.values),
    }
    if referral_policy.filters_by_evaluator(user):
        filters["evaluatrice"] = integer
    if referral_policy.filters_by_cidff(user):
        filters["cidff"] = integer
    listing = Listing(params, sorts=QUEUE_SORTS, default_sort="urgence", filters=filters)

    narrowed = Q()
    if listing.get("q"):
        narrowed &= referral_text_q(user=user, text=listing.get("q"))
    for name, field in FILTER_FIELDS.items():
        if listing.get(name) is not None:
            narrowed &= Q(**{field: listing.get(name)})
    matching = visible.filter(narrowed)

    matches = {queue.code: queue_q(queue, user=user, now=now, among=queues) for queue in queues}
    counted = [(index, queue) for index, queue in enumerate(queues) if queue.holds == OPEN]
    counters = {f"n{index}": Count("pk", filter=matches[queue.code]) for index, queue in counted}
    if narrowed:
        totals = matching.aggregate(opened=Count("pk", filter=Q(status__in=OPEN_STATES)), every=Count("pk"), **counters)
    else:
        totals = matching.filter(status__in=OPEN_STATES).aggregate(opened=Count("pk"), **counters)
        totals["every"] = referral_count_visible(user=user)
    held = {CLOSED: totals["every"] - totals["opened"], EVERY: totals["every"]}
    counts = {
        queue.code: totals[f"n{index}"] if queue.holds == OPEN else held[queue.holds]
        for index, queue in enumerate(queues)
    }

    by_code = {queue.code: queue for queue in queues}
    if listing.get("q") and ALL in by_code:
        default = ALL
    else:
        default = next(
            (queue.code for queue in queues if queue.may_default and counts[queue.code]),
            next((queue.code for queue in queues if queue.may_default), queues[0].code),
        )
    listing.set_default("file", default)
    queue = by_code[listing.get("file")]
    listing.set_default_sort(queue.default_sort)

    rows = listing.order(
        matching.filter(matches[queue.code])
        .annotate(**{SINCE: queue.since()})
        .select_related("referrer_organisation")
        .defer(*encrypted_field_names(Referral))
    )
    page = listing.paginate(rows, count=counts[queue.code])
    evaluators, cidffs = [], []
    if "evaluatrice" in filters:
        evaluators = [
            (evaluator.pk, str(evaluator))
            for evaluator in User.objects.filter(
                role=Role.EVALUATOR, organisation_id=user.organisation_id, organisation__isnull=False
            ).order_by("last_name", "first_name", "id")
        ]
    if "cidff" in filters:
        organisations = Organisation.objects.filter(kind=OrganisationKind.CIDFF)
        if user.role != Role.SUPERVISOR:
            organisations = organisations.filter(jurisdiction_id=getattr(user.organisation, "jurisdiction_id", None))
        cidffs = list(organisations.order_by("name").values_list("pk", "name"))
    return WorkQueues(
        queues=[
            {
                "queue": item,
                "count": counts[item.code],
                "url": listing.url(file=item.code, sort=None),
                "current": item.code == queue.code,
            }
            for item in queues
        ],
        queue=queue,
        listing=listing,
        page=page,
        searching=bool(listing.get("q")),
        evaluators=evaluators,
        cidffs=cidffs,
    )
