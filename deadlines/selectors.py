"""Which deadlines a user may see: those of the dossiers they may see, never for referrers or operators."""

from django.db.models import QuerySet

from accounts.models import Role
from deadlines.models import Deadline, DeadlineState
from referrals.selectors import referral_list_visible

WATCHED = (DeadlineState.OPEN, DeadlineState.OVERDUE)
# A referrer follows the status only; the operator sees the beneficiary sheet only.
BLIND_ROLES = (Role.REFERRER, Role.OPERATOR)


def deadline_list_visible(*, user, state: str | None = None) -> QuerySet[Deadline]:
    """One SQL query: the visibility of the dossiers is a subquery on the permission tables."""
    if user.role in BLIND_ROLES:
        return Deadline.objects.none()
    deadlines = Deadline.objects.filter(referral__in=referral_list_visible(user=user).values("pk"))
    deadlines = deadlines.filter(state=state) if state else deadlines.filter(state__in=WATCHED)
    return deadlines.select_related("referral").order_by("due_at", "id")


def deadline_list_for_referral(*, referral) -> QuerySet[Deadline]:
    """The watched dates shown on a dossier already opened by someone allowed to see them."""
    return referral.deadlines.filter(state__in=WATCHED).order_by("due_at", "id")
