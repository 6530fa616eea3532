from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.exceptions import NotFound
from core.listing import Listing, choice, text
from notifications import selectors, services
from referrals.workflow import NotificationKind

UNREAD, ALL = "non-lues", "toutes"
DOSSIERS_PER_PAGE = 20


def _inbox_listing(params) -> Listing:
    return Listing(
        params,
        filters={"vue": choice([UNREAD, ALL]), "type": choice(NotificationKind.values), "dossier": text(30)},
        defaults={"vue": ALL},
        page_size=DOSSIERS_PER_PAGE,
    )


@login_required
@require_GET
def notification_list(request):
    """The inbox, grouped by dossier: unread / all, filtered by kind and by dossier reference, paginated by dossier."""
    listing = _inbox_listing(request.GET)
    notifications = selectors.notification_inbox(
        user=request.user,
        unread_only=listing.get("vue") == UNREAD,
        kind=listing.get("type", ""),
        reference=listing.get("dossier", ""),
    )
    page = listing.paginate(selectors.inbox_dossiers(notifications))
    counts = selectors.inbox_counts(user=request.user)
    context = {
        "listing": listing,
        "page": page,
        "groups": selectors.inbox_groups(notifications, page.object_list),
        "counts": counts,
        "tabs": [
            {"label": label, "count": count, "url": listing.url(vue=view), "current": listing.get("vue") == view}
            for label, count, view in (("Non lues", counts.unread, UNREAD), ("Toutes", counts.total, ALL))
        ],
        "kind": listing.get("type", ""),
        "reference": listing.get("dossier", ""),
        "filtered": bool(listing.get("type") or listing.get("dossier")),
        "hidden": listing.hidden_fields("type", "dossier"),
        "clear_url": listing.url(type=None, dossier=None),
    }
    return render(request, "notifications/list.html", context)


@login_required
@require_POST
def notification_read_all(request):
    """ "Tout marquer comme lu": the user's own unread notifications (of the kind and dossier shown, if filtered)."""
    listing = _inbox_listing(request.POST)
    referral_id = None
    if listing.get("dossier"):
        dossiers = selectors.notification_inbox(user=request.user, reference=listing.get("dossier"))
        referral_id = dossiers.values_list("referral_id", flat=True).first() or 0
    marked = services.notification_mark_all_read(
        user=request.user, kind=listing.get("type", ""), referral_id=referral_id
    )
    if marked:
        plural = "s" if marked > 1 else ""
        messages.success(request, f"{marked} notification{plural} marquée{plural} comme lue{plural}.")
    else:
        messages.info(request, "Aucune notification non lue.")
    return redirect(reverse("notification-list") + listing.url())


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
