"""Every read that decides who sees which dossier: one SQL query joined on the grant tables."""

from django.db.models import BooleanField, Case, Exists, OuterRef, Q, QuerySet, Value, When

from accounts.models import Organisation, OrganisationKind, Role, User
from audit.services import audit_record_many
from core.exceptions import Forbidden
from referrals.hooks import guards_pass
from referrals.indexes import search_indexes
from referrals.models import CaseEvent, DuplicateAnswer, DuplicateVerdict, Referral, ReferralDocument
from referrals.policies import document_policy, referral_grants, referral_policy
from referrals.workflow import SYSTEM, TRANSITIONS, VIEW, Audience, ClosureReason, Status


def referral_list_visible(*, user) -> QuerySet[Referral]:
    return referral_policy.instances_user_has_permission_for(user, "view")


def referral_get_visible(*, user, referral_id) -> Referral:
    return referral_policy.get_visible(user, referral_id)


def referral_inbox(*, user) -> QuerySet[Referral]:
    """A CIDFF's open dossiers, urgent first, then oldest first."""
    return (
        referral_list_visible(user=user)
        .exclude(status__in=[Status.DRAFT, Status.CLOSED])
        .order_by("-urgency", "submitted_at", "id")
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
                When(referral_policy.visible_q(user), then=Value(True)), default=False, output_field=BooleanField()
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
