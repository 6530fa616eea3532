"""Every read that decides who sees which dossier: one SQL query joined on the grant tables."""

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.models import OrganisationKind, Role, User
from core.exceptions import Forbidden, NotFound
from referrals.models import (
    CaseEvent,
    Referral,
    ReferralDocument,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
)
from referrals.workflow import ClosureReason, Status


def referral_permission_q(*, user, codename: str, outer: str = "pk") -> Q:
    """True for dossiers on which `user` holds `codename`, directly or through a group."""
    perm = {
        "content_object": OuterRef(outer),
        "permission__codename": codename,
        "permission__content_type__app_label": "referrals",
    }
    return Q(Exists(ReferralUserObjectPermission.objects.filter(user=user, **perm))) | Q(
        Exists(ReferralGroupObjectPermission.objects.filter(group__user=user, **perm))
    )


def referral_list_visible(*, user) -> QuerySet[Referral]:
    if not (user.is_authenticated and user.is_active):
        return Referral.objects.none()
    return Referral.objects.filter(referral_permission_q(user=user, codename="view_referral")).select_related(
        "cidff", "referrer_organisation", "evaluator", "referrer"
    )


def referral_get_visible(*, user, referral_id) -> Referral:
    try:
        return referral_list_visible(user=user).get(pk=referral_id)
    except (Referral.DoesNotExist, ValueError, TypeError):
        raise NotFound("Dossier introuvable.") from None


def referral_inbox(*, user) -> QuerySet[Referral]:
    """A CIDFF's open dossiers, urgent first, then oldest first."""
    return (
        referral_list_visible(user=user)
        .exclude(status__in=[Status.DRAFT, Status.CLOSED])
        .order_by("-urgency", "submitted_at", "id")
    )


def referral_events(*, referral: Referral) -> QuerySet[CaseEvent]:
    return referral.events.select_related("actor").order_by("created_at", "id")


def referrer_sees_content(*, user, referral: Referral) -> bool:
    """Once a dossier has left its referrer she follows its status only: no content, no documents."""
    return referral.referrer_id != user.pk or referral.status == Status.DRAFT


def document_list(*, user, referral: Referral) -> QuerySet[ReferralDocument]:
    if not referrer_sees_content(user=user, referral=referral):
        raise Forbidden("Les pièces d'un signalement transmis ne sont plus consultables par le référent.")
    return referral.documents.select_related("uploaded_by").order_by("created_at", "id")


def document_get_visible(*, user, document_id) -> ReferralDocument:
    if not (user.is_authenticated and user.is_active):
        raise NotFound("Pièce introuvable.")
    try:
        return (
            ReferralDocument.objects.select_related("referral")
            .filter(referral_permission_q(user=user, codename="view_referral", outer="referral"))
            .exclude(Q(referral__referrer=user) & ~Q(referral__status=Status.DRAFT))
            .get(pk=document_id)
        )
    except (ReferralDocument.DoesNotExist, ValueError, TypeError):
        raise NotFound("Pièce introuvable.") from None


def referral_warnings(*, referral: Referral) -> list[str]:
    """Points the CIDFF must know before going further (not blocking at this stage)."""
    warnings = []
    if referral.cohabiting:
        warnings.append(
            "La victime cohabite avec l'auteur : le Téléphone Grave Danger exige la non-cohabitation "
            "(art. 41-3-1 du code de procédure pénale). Une autre orientation peut être nécessaire."
        )
    return warnings


def is_cidff_coordinator(*, user, referral: Referral) -> bool:
    """A coordinator of the CIDFF that currently holds the dossier."""
    return user.role == Role.CIDFF_COORDINATOR and user.organisation_id == referral.cidff_id


def referral_coordinators(*, referral: Referral) -> QuerySet:
    """The active coordinators of the CIDFF that holds the dossier."""
    return User.objects.filter(is_active=True, role=Role.CIDFF_COORDINATOR, organisation_id=referral.cidff_id)


def referral_prosecutors(*, referral: Referral) -> QuerySet:
    """The active prosecutors of the parquets of the jurisdiction of the CIDFF holding the dossier."""
    return User.objects.filter(
        is_active=True,
        role=Role.PROSECUTOR,
        organisation__kind=OrganisationKind.PARQUET,
        organisation__jurisdiction_id=referral.cidff.jurisdiction_id,
    )


def referral_viewers(*, referral: Referral) -> QuerySet:
    """Active users allowed to see the dossier (one query on the grant tables)."""
    perm = {
        "content_object": referral,
        "permission__codename": "view_referral",
        "permission__content_type__app_label": "referrals",
    }
    return User.objects.filter(is_active=True).filter(
        Q(Exists(ReferralUserObjectPermission.objects.filter(user=OuterRef("pk"), **perm)))
        | Q(Exists(ReferralGroupObjectPermission.objects.filter(group__user=OuterRef("pk"), **perm)))
    )


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
