"""Which deadlines a user may see: those of the dossiers they may see, never for referrers or operators."""

from django.db.models import QuerySet

from deadlines.models import Deadline, DeadlineState
from deadlines.policies import deadline_policy

WATCHED = (DeadlineState.OPEN, DeadlineState.OVERDUE)


def deadline_list_visible(*, user, state: str | None = None) -> QuerySet[Deadline]:
    """One SQL query: the dossier's CIDFF and parquet, through the permission tables (`deadline_policy`)."""
    deadlines = deadline_policy.instances_user_has_permission_for(user)
    deadlines = deadlines.filter(state=state) if state else deadlines.filter(state__in=WATCHED)
    return deadlines.order_by("due_at", "id")


def deadline_list_for_referral(*, referral) -> QuerySet[Deadline]:
    """The watched dates shown on a dossier already opened by someone allowed to see them."""
    return referral.deadlines.filter(state__in=WATCHED).order_by("due_at", "id")


def deadline_panel(*, user, referral, bound=None) -> QuerySet[Deadline]:
    """The "Échéances surveillées" panel of the dossier page."""
    return deadline_list_for_referral(referral=referral)
