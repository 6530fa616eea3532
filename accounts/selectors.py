from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import ApiToken, Organisation, Role, User


def organisation_list(*, kind: str | None = None) -> QuerySet[Organisation]:
    organisations = Organisation.objects.filter(is_active=True).select_related("jurisdiction")
    return organisations.filter(kind=kind) if kind else organisations


def colleague_list(*, user: User) -> QuerySet[User]:
    """A CIDFF coordinator's own staff; supervisors see everyone; other roles see nobody."""
    users = User.objects.filter(is_active=True)
    if user.role == Role.SUPERVISOR:
        return users
    if user.role == Role.CIDFF_COORDINATOR and user.organisation_id:
        return users.filter(organisation_id=user.organisation_id)
    return users.none()


def token_list(*, user: User) -> QuerySet[ApiToken]:
    """A person's live API tokens, newest first (by id)."""
    return ApiToken.objects.filter(user=user, expires_at__gt=timezone.now()).order_by("-id")
