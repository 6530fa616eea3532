"""The CIDFF coordination hands a phone of its stock to the beneficiary of a granted dossier."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from core.exceptions import Conflict
from core.web import add_service_errors, service_errors
from parquet import services
from parquet.forms import (
    HandoverForm,
)
from parquet.models import (
    Decision,
    Outcome,
)
from parquet.views.common import (
    back_to_dossier,
    conflict_page,
)
from referrals import selectors as referral_selectors
from referrals import services as referral_services
from referrals.policies import referral_policy
from referrals.workflow import Status


def _granted_decision(referral) -> Decision | None:
    return (
        referral.decisions.filter(outcome=Outcome.GRANTED, attribution__isnull=True)
        .order_by("-signed_at", "-id")
        .first()
    )


def _render_handover(request, referral, decision, *, form=None, errors=(), status=200):
    user = request.user
    form = form or HandoverForm(user=user, referral=referral)
    today = timezone.localdate()
    context = {
        "referral": referral,
        "decision": decision,
        "form": form,
        "action_errors": list(errors),
        "end_hint": services.measure_end_date(today, decision.duration_months),
        "no_stock": not form.fields["device"].queryset.exists(),
    }
    return render(request, "parquet/web/handover.html", context, status=status)


def _handover_context(request, pk, *, read: bool):
    user = request.user
    if read:
        referral = referral_services.referral_read(user=user, referral_id=pk)
    else:
        referral = referral_selectors.referral_get_visible(user=user, referral_id=pk)
    if not referral_policy.may_coordinate(user, referral):
        raise PermissionDenied("Seule la coordination du CIDFF remet le téléphone.")
    decision = _granted_decision(referral) if referral.status == Status.GRANTED else None
    return referral, decision


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def handover(request, pk):
    """The coordinator hands a phone of her stock to the beneficiary of a granted dossier."""
    user = request.user
    referral, decision = _handover_context(request, pk, read=request.method == "GET")
    if decision is None:
        message = f"Aucune remise de téléphone n'est attendue : le dossier est « {referral.get_status_display()} »."
        return conflict_page(request, message, **back_to_dossier(pk))
    if request.method == "GET":
        return _render_handover(request, referral, decision)
    form = HandoverForm(request.POST, user=user, referral=referral)
    if not form.is_valid():
        return _render_handover(request, referral, decision, form=form, status=400)
    data = form.cleaned_data
    try:
        attribution = services.attribution_handover(
            user=user,
            decision_id=decision.pk,
            device_id=data["device"].pk,
            handover_date=data["handover_date"],
            consent=data["consent"],
            geolocation_consent=data["geolocation_consent"],
            agreement_id=data["agreement"].pk if data["agreement"] else None,
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _render_handover(request, referral, decision, form=form, status=400)
    except Conflict as exc:
        # the phone was taken meanwhile: say so, and offer the stock as it is now
        fresh = HandoverForm(
            initial={key: value for key, value in data.items() if key != "device"}, user=user, referral=referral
        )
        referral = referral_selectors.referral_get_visible(user=user, referral_id=pk)
        if referral.status != Status.GRANTED:
            return conflict_page(request, exc.message, status=exc.status_code, **back_to_dossier(pk))
        return _render_handover(request, referral, decision, form=fresh, errors=[exc.message], status=exc.status_code)
    messages.success(
        request,
        f"Téléphone {attribution.device.phone_number} remis : la mesure court jusqu'au "
        f"{attribution.end_date:%d/%m/%Y}. L'opérateur de téléassistance reçoit la fiche bénéficiaire.",
    )
    return redirect(reverse("referral-detail", args=[pk]) + "#mesure")
