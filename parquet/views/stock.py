"""The CIDFF coordination's phone stock: the list (with the comité de pilotage's view of every CIDFF) and one phone."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.exceptions import Conflict
from core.listing import Listing, choice, text
from core.web import add_service_errors, service_errors
from parquet import selectors, services
from parquet.forms import (
    DeviceCreateForm,
    DeviceFilterForm,
    DeviceStatusForm,
)
from parquet.models import (
    AttributionStatus,
    DeviceStatus,
)
from parquet.policies import device_policy
from parquet.views.common import (
    STOCK_PAGE_SIZE,
)


def _stock_user(user):
    if not device_policy.may_stock(user):
        raise PermissionDenied("Le stock de téléphones est géré par la coordination des CIDFF.")


STOCK_SORTS = {"serie": ("serial",), "numero": ("phone_number",), "etat": ("status", "serial")}


def _stock_listing(params, *, all_cidffs: bool) -> Listing:
    sorts = STOCK_SORTS | ({"cidff": ("organisation__name", "serial")} if all_cidffs else {})
    return Listing(
        params,
        sorts=sorts,
        default_sort="cidff" if all_cidffs else "serie",
        filters={
            "file": choice(selectors.DEVICE_QUEUES),
            "etat": choice(DeviceStatus.values),
            "q": text(40),
        },
        page_size=STOCK_PAGE_SIZE,
    )


def _render_stock(request, *, create_form=None, status=200):
    """Work queues with counts, a search by serial (or call number), a state filter, a sort, server-side pages."""
    user = request.user
    coordinator = device_policy.own_stock_only(user)
    listing = _stock_listing(request.GET, all_cidffs=not coordinator)
    counts = selectors.device_queue_counts(selectors.device_list_visible(user=user))
    state_counts = dict(
        selectors.device_list_visible(user=user).order_by().values_list("status").annotate(n=Count("id"))
    )
    filter_form = DeviceFilterForm({"etat": listing.get("etat", "")}, counts=state_counts)
    filter_form.is_valid()
    devices = selectors.device_list_filtered(
        user=user, queue=listing.get("file", ""), status=listing.get("etat", ""), search=listing.get("q", "")
    )
    page = listing.paginate(listing.order(devices))
    queue = listing.get("file", "")
    queues = [
        {"label": "Tous", "count": counts["all"], "url": listing.url(file=None, etat=None), "current": not queue}
    ] + [
        {"label": label, "count": counts[slug], "url": listing.url(file=slug, etat=None), "current": queue == slug}
        for slug, label in selectors.DEVICE_QUEUES.items()
    ]
    state = listing.get("etat", "")
    context = {
        "page": page,
        "listing": listing,
        "queues": queues,
        "queue_label": selectors.DEVICE_QUEUES.get(queue, ""),
        "filter_form": filter_form,
        "search": listing.get("q", ""),
        "hidden": listing.hidden_fields("etat", "q"),
        "filtered": bool(queue or state or listing.get("q")),
        "state_label": DeviceStatus(state).label if state else "",
        "in_stock": counts["en-stock"],
        "total": counts["all"],
        "is_coordinator": coordinator,
        "all_cidffs": not coordinator,
        "create_form": create_form or (DeviceCreateForm(prefix="ajout") if coordinator else None),
    }
    return render(request, "parquet/web/stock.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def device_list(request):
    """Her CIDFF's phones for a coordinator (add one here); every CIDFF's for a supervisor (read only)."""
    user = request.user
    _stock_user(user)
    if request.method == "GET":
        return _render_stock(request)
    if not device_policy.own_stock_only(user):
        raise PermissionDenied("Le comité de pilotage ajoute les téléphones depuis l'administration.")
    form = DeviceCreateForm(request.POST, prefix="ajout")
    if form.is_valid():
        try:
            device = services.device_create(
                user=user, serial=form.cleaned_data["serial"], phone_number=form.cleaned_data["phone_number"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Téléphone {device.serial} ({device.phone_number}) ajouté au stock.")
            return redirect("device-list")
    return _render_stock(request, create_form=form, status=400)


def _render_device(request, device, *, form=None, errors=(), status=200):
    user = request.user
    coordinator = device_policy.own_stock_only(user)
    current = (
        selectors.attribution_list_visible(user=user)
        .filter(device=device, status=AttributionStatus.ACTIVE)
        .select_related("referral")
        .first()
    )
    may_change = coordinator and device.status != DeviceStatus.ASSIGNED
    context = {
        "device": device,
        "events": device.events.select_related("actor").order_by("-id"),
        "current": current,
        "form": form or (DeviceStatusForm(prefix="etat") if may_change else None),
        "is_coordinator": coordinator,
        "action_errors": list(errors),
    }
    return render(request, "parquet/web/device.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def device_detail(request, device_id):
    """A phone's state and history; the coordinator changes its state by hand (never to "assigned")."""
    user = request.user
    device = selectors.device_get_visible(user=user, device_id=device_id)  # 404 first, as the API answers
    if request.method == "GET":
        return _render_device(request, device)
    if not device_policy.own_stock_only(user):
        raise PermissionDenied("Le comité de pilotage modifie les téléphones depuis l'administration.")
    form = DeviceStatusForm(request.POST, prefix="etat")
    if form.is_valid():
        try:
            device = services.device_update(
                user=user, device_id=device.pk, status=form.cleaned_data["status"], note=form.cleaned_data["note"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            return _render_device(request, device, errors=[exc.message], status=exc.status_code)
        else:
            messages.success(request, f"Téléphone {device.serial} : état « {device.get_status_display()} ».")
            return redirect("device-detail", device_id=device.pk)
    return _render_device(request, device, form=form, status=400)
