"""Who may see a dossier or its documents, and do what to them: the dossier's one policy.

Seeing comes from object grants written by the transitions (see `referrals.workflow`); acting
adds the role the action belongs to. Every module asks `referral_policy`, never `user.role`.
"""

from django.db.models import Q, QuerySet

from accounts.models import Role
from core.fields import joined_encrypted_field_names
from core.policies import ModelPolicy, ObjectGrants, active
from referrals.models import (
    Referral,
    ReferralDocument,
    ReferralGroupObjectPermission,
    ReferralUserObjectPermission,
)
from referrals.workflow import CHANGE, DECIDE, EVALUATE, VIEW, Status

referral_grants = ObjectGrants(
    app_label="referrals", user_table=ReferralUserObjectPermission, group_table=ReferralGroupObjectPermission
)
CIDFF_ROLES = (Role.CIDFF_COORDINATOR, Role.EVALUATOR)


# The grants that make a dossier one's case: its CIDFF's (change, evaluate) and its parquet's (decide).
CASE_CODENAMES = (CHANGE, EVALUATE, DECIDE)


def case_q(user, outer: str = "referral") -> Q:
    """Rows of a dossier held by its CIDFF or its parquet (never the referrer, never the operator).

    Her own dossiers are set aside as a subquery (an index lookup on the referrer), not by joining each row to its
    dossier: that join made PostgreSQL read the whole dossier table for an operator's list of sheets."""
    own = Referral.objects.filter(referrer_id=user.pk).values("pk")
    return referral_grants.q(user=user, codename=CASE_CODENAMES, outer=outer) & ~Q(**{f"{outer}__in": own})


class ReferralPolicy(ModelPolicy):
    model = Referral
    not_found = "Dossier introuvable."

    def base_queryset(self):
        return Referral.objects.select_related("cidff", "referrer_organisation", "evaluator", "referrer")

    def visible_q(self, user) -> Q:
        return referral_grants.q(user=user, codename=VIEW)

    def visible_row_q(self, user) -> Q:
        """`visible_q` tested row by row: for a few rows found by something else (the same woman's dossiers)."""
        return referral_grants.held_q(user=user, codename=VIEW)

    def count_visible(self, user) -> int:
        return referral_grants.count(user=user, codename=VIEW) if active(user) else 0

    def newest_visible_ids(self, user, *, offset: int, limit: int):
        """A page of the ids of every dossier `user` sees, newest first (None: filter the list as usual)."""
        if not active(user):
            return None
        return referral_grants.newest_ids(user=user, codename=VIEW, offset=offset, limit=limit)

    def action_q(self, user, action: str) -> Q:
        """Tested row by row: it always narrows the visible dossiers (`visible_q` drives the query)."""
        codename = {"decide": DECIDE, "change": CHANGE, "evaluate": EVALUATE}[action]
        return referral_grants.held_q(user=user, codename=codename)

    def _holds(self, user, referral, codename: str) -> bool:
        return codename in referral_grants.granted(user, referral)

    # --- actions ---------------------------------------------------------------------------------

    def may_view(self, user, referral) -> bool:
        return self._holds(user, referral, VIEW)

    def may_change(self, user, referral) -> bool:
        return self._holds(user, referral, CHANGE)

    def may_author(self, user, referral) -> bool:
        """The referring professional who wrote the signalement."""
        return user.role == Role.REFERRER and referral.referrer_id == user.pk

    def may_coordinate(self, user, referral) -> bool:
        """A coordinator of the CIDFF that holds the dossier, with its grant."""
        return (
            user.role == Role.CIDFF_COORDINATOR
            and user.organisation_id == referral.cidff_id
            and self._holds(user, referral, CHANGE)
        )

    def may_evaluate(self, user, referral) -> bool:
        """The evaluator the dossier is assigned to."""
        return (
            user.role == Role.EVALUATOR and referral.evaluator_id == user.pk and self._holds(user, referral, EVALUATE)
        )

    def may_decide(self, user, referral) -> bool:
        """A magistrate of the jurisdiction's parquet, once a report was sent to it."""
        return user.role == Role.PROSECUTOR and self._holds(user, referral, DECIDE)

    def may_follow(self, user, referral) -> bool:
        """The CIDFF staff who follow the beneficiary (coordination and the dossier's evaluator)."""
        return user.role in CIDFF_ROLES and self._holds(user, referral, CHANGE)

    def holds_case(self, user, referral) -> bool:
        """What `case_q` says in SQL, said of one dossier from its grants (read once for the page): its CIDFF or
        its parquet, never its referrer."""
        held = referral_grants.granted(user, referral)
        return referral.referrer_id != user.pk and not held.isdisjoint(CASE_CODENAMES)

    def may_read_content(self, user, referral) -> bool:
        """Once a dossier has left its referrer she follows its status only: no content, no documents."""
        return referral.referrer_id != user.pk or referral.status == Status.DRAFT

    def may_upload(self, user, referral) -> bool:
        return referral.status != Status.CLOSED and self._holds(user, referral, CHANGE)

    # --- roles, for what is not about one dossier ---------------------------------------------------

    @staticmethod
    def may_file(user) -> bool:
        """A referring professional of an organisation may open a signalement."""
        return (
            user.role == Role.REFERRER and user.organisation_id is not None and user.has_perm("referrals.add_referral")
        )

    @staticmethod
    def may_search_people(user) -> bool:
        """Who may look a woman up by name and birth date or phone (blind indexes) among the dossiers she sees."""
        return user.role in (Role.REFERRER, Role.EVALUATOR, Role.CIDFF_COORDINATOR, Role.PROSECUTOR)

    @staticmethod
    def filters_by_evaluator(user) -> bool:
        return user.role == Role.CIDFF_COORDINATOR

    @staticmethod
    def filters_by_cidff(user) -> bool:
        return user.role in (Role.PROSECUTOR, Role.SUPERVISOR)

    @staticmethod
    def is_referrer(user) -> bool:
        return user.role == Role.REFERRER

    @staticmethod
    def is_coordinator(user) -> bool:
        return user.role == Role.CIDFF_COORDINATOR

    @staticmethod
    def is_prosecutor(user) -> bool:
        return user.role == Role.PROSECUTOR


class CaseRowsPolicy(ModelPolicy):
    """A model whose rows belong to a dossier (at `case_field`) and whose visibility starts from `case_q`."""

    case_field = "referral"

    def of_case(self, user, referral) -> QuerySet:
        """The rows of one dossier that `user` may see: every one when the dossier's grants, already read for its
        page, make it her case (`holds_case`, what `case_q` says in SQL); otherwise the list's filter decides."""
        if active(user) and referral_policy.holds_case(user, referral):
            rows = self.base_queryset().filter(**{self.case_field: referral})
        else:
            rows = self.instances_user_has_permission_for(user).filter(**{self.case_field: referral})
        return rows.defer(*joined_encrypted_field_names(rows))  # the page has its dossier: its rows show their own


class DocumentPolicy(ModelPolicy):
    """A dossier's attachments: seen by those who see the dossier's content."""

    model = ReferralDocument
    not_found = "Pièce introuvable."

    def base_queryset(self):
        return ReferralDocument.objects.select_related("referral")

    def visible_q(self, user) -> Q:
        return referral_grants.q(user=user, codename=VIEW, outer="referral") & ~(
            Q(referral__referrer=user) & ~Q(referral__status=Status.DRAFT)
        )


referral_policy = ReferralPolicy()
document_policy = DocumentPolicy()
