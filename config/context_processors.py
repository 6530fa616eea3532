"""Navigation entries of the base layout, by role, and the unread notifications badge."""

from functools import cached_property

from django.urls import reverse

from accounts.models import Role
from notifications.selectors import unread_count
from stats.selectors import can_see_stats


class NotificationsEntry:
    """The "Notifications" entry: its count is read once, and only when the page shows it."""

    label = "Notifications"

    def __init__(self, user):
        self._user = user
        self.url = reverse("notification-list")

    @cached_property
    def unread(self) -> int:
        return unread_count(user=self._user)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "nav_notifications": None}
    items = []
    if user.role == Role.REFERRER:
        items = [("Mes signalements", reverse("referral-list")), ("Nouveau signalement", reverse("referral-create"))]
    elif user.role == Role.CIDFF_COORDINATOR:
        items = [
            ("Dossiers reçus", reverse("referral-list")),
            ("Dossiers clôturés", reverse("referral-list") + "?vue=clos"),
            ("Stock de téléphones", reverse("device-list")),
        ]
    elif user.role == Role.EVALUATOR:
        items = [("Mes dossiers", reverse("referral-list"))]
    elif user.role == Role.PROSECUTOR:
        items = [("Rapports à décider", reverse("decision-inbox")), ("Dossiers", reverse("referral-list"))]
    elif user.role == Role.OPERATOR:
        items = [("Bénéficiaires actives", reverse("sheet-list"))]
    elif user.role == Role.SUPERVISOR:
        items = [("Dossiers", reverse("referral-list")), ("Stock de téléphones", reverse("device-list"))]
    else:
        items = [("Dossiers", reverse("referral-list"))]
    if user.role in (Role.CIDFF_COORDINATOR, Role.EVALUATOR, Role.PROSECUTOR):
        items.append(("Échéances", reverse("deadline-list")))
    if can_see_stats(user):
        items.append(("Tableau de bord", reverse("stats-dashboard")))
    if user.is_staff:
        items.append(("Administration", reverse("admin:index")))
    return {"nav_items": items, "nav_notifications": NotificationsEntry(user)}
