from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from core.exceptions import NotFound
from notifications import selectors, services


@login_required
@require_GET
def notification_list(request):
    page = Paginator(selectors.notification_list(user=request.user), 25).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {"page": page})


@login_required
@require_GET
def notification_open(request, pk):
    """Mark read and go to the dossier (which still answers 404 if access was lost since)."""
    try:
        notification = services.notification_mark_read(user=request.user, notification_id=pk)
    except NotFound:
        raise Http404("Notification introuvable.") from None
    return redirect("referral-detail", pk=notification.referral_id)


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request):
    """Which kinds also come by e-mail (in-app notices always stay)."""
    offered = selectors.notification_preferences(user=request.user)
    if request.method == "POST":
        services.notification_preferences_set(
            user=request.user, emails={kind: f"email-{kind}" in request.POST for kind, _, _ in offered}
        )
        messages.success(request, "Vos préférences de notification sont enregistrées.")
        return redirect("notification-preferences")
    return render(request, "notifications/preferences.html", {"preferences": offered})
