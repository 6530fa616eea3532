"""Navigation entries of the base layout, by role."""

from django.urls import reverse

from accounts.models import Role


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items = []
    if user.role == Role.REFERRER:
        items = [("Mes signalements", reverse("referral-list")), ("Nouveau signalement", reverse("referral-create"))]
    elif user.role == Role.CIDFF_COORDINATOR:
        items = [
            ("Dossiers reçus", reverse("referral-list")),
            ("Dossiers clôturés", reverse("referral-list") + "?vue=clos"),
        ]
    elif user.role == Role.EVALUATOR:
        items = [("Mes dossiers", reverse("referral-list"))]
    else:
        items = [("Dossiers", reverse("referral-list"))]
    if user.is_staff:
        items.append(("Administration", reverse("admin:index")))
    return {"nav_items": items}
