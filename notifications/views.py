from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

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
