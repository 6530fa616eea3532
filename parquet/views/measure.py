"""The measure panel of the dossier page (decisions, periods, alerts, follow-up) and its actions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.exceptions import Conflict
from core.web import PageAction, run_page_action, service_errors
from parquet import selectors, services
from parquet.forms import (
    EmptyForm,
    FollowUpForm,
    ReturnForm,
    WithdrawalForm,
)
from parquet.models import (
    AttributionStatus,
    Outcome,
)
from parquet.views.common import (
    END_REASONS,
    decision_rows,
)
from referrals import selectors as referral_selectors
from referrals import services as referral_services
from referrals.pages import dossier_page
from referrals.policies import referral_policy
from referrals.workflow import BY_ACTION, Status

# A dossier its CIDFF has not yet reported on has never been before the parquet: no decision, no period to show.
BEFORE_PARQUET = frozenset({Status.DRAFT, Status.SUBMITTED, Status.RECEIVED, Status.EVALUATION})


def _last_attribution(referral):
    return referral.attributions.order_by("-id").first()


def _period_of(user, referral, attribution, step: str):
    """The period a withdrawal or a return acts on: 403 for who may not take `step`, then 409 when there is none."""
    referral_policy.require(user, BY_ACTION[step].by, referral)
    if attribution is None:
        raise Conflict("Ce dossier n'a pas d'attribution de téléphone : il n'y a rien à retirer ni à restituer.")
    return attribution.pk


# The measure's actions: run(user, referral, last attribution, cleaned_data); {reference} in the message.


MEASURE_ACTIONS = {
    "retrait": PageAction(
        WithdrawalForm,
        title="Retirer le téléphone",
        run=lambda user, referral, attribution, data: services.attribution_withdraw(
            user=user,
            attribution_id=_period_of(user, referral, attribution, "withdrawal"),
            reason=data["reason"],
            comment=data["comment"],
            copil_opinion_date=data["copil_opinion_date"],
        ),
        success="Téléphone retiré : la mesure du dossier {reference} prend fin, le CIDFF organise la restitution.",
    ),
    "reevaluation": PageAction(
        EmptyForm,
        title="Lancer la réévaluation",
        run=lambda user, referral, attribution, data: services.measure_start_reevaluation(
            user=user, referral_id=referral.pk
        ),
        success="Réévaluation du dossier {reference} lancée : l'évaluatrice peut commencer la réévaluation.",
    ),
    "restitution": PageAction(
        ReturnForm,
        title="Enregistrer la restitution",
        run=lambda user, referral, attribution, data: services.attribution_return(
            user=user,
            attribution_id=_period_of(user, referral, attribution, "device_returned"),
            returned_on=data["returned_on"],
            condition=data["condition"],
            notes=data["notes"],
        ),
        success="Restitution enregistrée : le dossier {reference} est clôturé.",
    ),
    "suivi": PageAction(
        FollowUpForm,
        title="Ajouter un contact de suivi",
        run=lambda user, referral, attribution, data: services.followup_create(
            user=user, referral_id=referral.pk, date=data["date"], channel=data["channel"], notes=data["notes"]
        ),
        success="Contact de suivi ajouté au dossier {reference}.",
    ),
}


def _measure_forms(user, referral, actions, attribution) -> dict:
    """The measure's forms for the transitions this user may take now (the services still decide)."""
    forms = {}
    if "reevaluation" in actions:
        forms["reevaluation"] = EmptyForm(prefix="reevaluation")
    if "device_returned" in actions and attribution and attribution.status != AttributionStatus.ACTIVE:
        forms["restitution"] = ReturnForm(prefix="restitution")
    if referral_policy.may_follow(user, referral) and referral.status in services.FOLLOWED_STATES:
        forms["suivi"] = FollowUpForm(prefix="suivi")
    if "withdrawal" in actions and attribution and attribution.status == AttributionStatus.ACTIVE:
        forms["retrait"] = WithdrawalForm(prefix="retrait")
    return forms


def measure_panel(*, user, referral, bound=None) -> dict | None:
    """The "Mesure" section of the dossier page, or None when it is not for this user (or not yet relevant).

    CIDFF and parquet only: never the referrer (her page shows the outcome notice), never the operator.
    `bound` replaces blank action forms by the posted ones (with their errors).
    """
    if referral.status in BEFORE_PARQUET or referral.referrer_id == user.pk:
        return None
    cidff = referral_policy.may_follow(user, referral)
    if not (cidff or referral_policy.may_decide(user, referral)):
        return None
    decisions = decision_rows(user, referral)
    periods = list(
        selectors.attribution_list_of_dossier(user=user, referral=referral)
        .select_related("device", "agreement")
        .order_by("-id")
    )
    if not decisions and not periods:
        return None
    today = timezone.localdate()
    current = next((period for period in periods if period.status == AttributionStatus.ACTIVE), None)
    last = periods[0] if periods else None
    actions = referral_selectors.referral_actions(user=user, referral=referral)
    forms = {**_measure_forms(user, referral, actions, last), **(bound or {})}
    failed = next((name for name, form in (bound or {}).items() if form.errors), None)
    jurisdiction = referral.cidff.jurisdiction
    days_left = (current.end_date - today).days if current else None
    expects_decision = any(action.startswith("decision_") for action in actions)
    for period in periods:
        period.end_reason_label = END_REASONS.get(period.end_reason, period.end_reason)
    return {
        "decisions": decisions,
        "current": current,
        "days_left": days_left,
        "days_overdue": -days_left if days_left is not None and days_left < 0 else None,
        "notice_due": days_left is not None and days_left <= jurisdiction.reevaluation_notice_days,
        "notice_days": jurisdiction.reevaluation_notice_days,
        "renewals": sum(1 for row in decisions if row["decision"].outcome == Outcome.RENEWED),
        "max_renewals": jurisdiction.max_renewals,
        "past": [period for period in periods if period.status != AttributionStatus.ACTIVE],
        "alerts": list(selectors.alert_list_of_dossier(user=user, referral=referral).order_by("-occurred_at", "-id")),
        "followups": list(selectors.followup_list(referral=referral)) if cidff else None,
        "device_return": getattr(referral, "device_return", None),
        "forms": forms,
        "failed": failed and {"anchor": f"form-{failed}", "title": MEASURE_ACTIONS[failed].title},
        "handover_url": reverse("handover", args=[referral.pk]) if "handover" in actions else "",
        "decision_url": (
            reverse("decision-page", args=[referral.pk]) if referral_policy.may_decide(user, referral) else ""
        ),
        "expects_decision": expects_decision,
    }


def _render_dossier(request, pk, *, bound=None, errors=(), status=400):
    """The dossier page once more, with the posted measure form and its errors (the reading is journaled)."""
    referral = referral_services.referral_read(user=request.user, referral_id=pk)
    return dossier_page(request, referral, errors=errors, status=status, panel="measure_panel", panel_bound=bound)


@login_required
@require_POST
@service_errors
def measure_action(request, pk, action):
    spec = MEASURE_ACTIONS.get(action)
    if spec is None:
        raise Http404("Action inconnue.")
    user = request.user
    referral = referral_selectors.referral_get_visible(user=user, referral_id=pk)  # 404 before anything else
    form = spec.form_class(request.POST, prefix=action)
    result = run_page_action(form, lambda data: spec.run(user, referral, _last_attribution(referral), data))
    if not result.done:
        bound = {action: form} if form.errors else None
        return _render_dossier(request, pk, bound=bound, errors=result.errors, status=result.status)
    messages.success(request, spec.success.format(reference=referral.reference))
    if not referral_selectors.referral_list_visible(user=user).filter(pk=pk).exists():
        return redirect("referral-list")
    return redirect(reverse("referral-detail", args=[pk]) + "#mesure")
