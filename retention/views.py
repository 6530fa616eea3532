"""The legal hold form of the dossier page: put (with a reason) or lift, by the dossier's parquet."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from core.exceptions import Forbidden
from core.web import run_page_action, service_errors
from referrals import selectors as referral_selectors
from referrals import services as referral_services
from referrals.pages import dossier_page
from retention import services
from retention.forms import LegalHoldForm
from retention.policies import may_hold


@login_required
@require_POST
@service_errors
def legal_hold(request, pk):
    """POST with `lift` lifts the active hold; otherwise puts one (reason required): 404, then 403, then 400/409."""
    user = request.user
    referral = referral_selectors.referral_get_visible(user=user, referral_id=pk)
    if not may_hold(user, referral):
        raise Forbidden(services.HOLD_REFUSED)
    if "lift" in request.POST:
        services.legal_hold_lift(user=user, referral_id=pk)
        messages.success(request, f"Gel de conservation du dossier {referral.reference} levé.")
        return redirect(reverse("referral-detail", args=[pk]) + "#conservation")
    form = LegalHoldForm(request.POST, prefix="gel")
    result = run_page_action(
        form, lambda data: services.legal_hold_set(user=user, referral_id=pk, reason=data["reason"])
    )
    if not result.done:
        referral = referral_services.referral_read(user=user, referral_id=pk)
        bound = {"hold": form} if form.errors else None
        return dossier_page(
            request, referral, errors=result.errors, status=result.status, panel="legal_hold_panel", panel_bound=bound
        )
    messages.success(request, f"Dossier {referral.reference} gelé : la purge de conservation ne le touchera pas.")
    return redirect(reverse("referral-detail", args=[pk]) + "#conservation")
