"""Web pages of the parquet and phone stage (thin: forms in, parquet.services do the work).

NotFound → 404 and Forbidden → 403 (and a Conflict nobody explains next to a form → 409) are
mapped once by `referrals.views.service_errors`; the views that can explain a ValidationError or
a Conflict next to a form catch them and render the page again with the posted form.

Pages: the prosecutor's inbox (`decision-inbox`) and decision page (`decision-page`), the decision
documents (`decision-document`), the CIDFF's phone stock (`device-list`, `device-detail`), the
handover (`handover`), the measure actions of the dossier page (`measure-action`) and the
operator's beneficiary sheets (`sheet-list`, `sheet-detail`, `sheet-alert`, `sheet-pdf`). The
dossier page shows the measure through `measure_panel`.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from audit.services import audit_record
from cidff import selectors as cidff_selectors
from cidff.api import pdf_response
from cidff.instruments import definition_items, level_label
from cidff.models import Evaluation, EvaluationKind, EvaluationReport, EvaluationStatus, Recommendation
from core.exceptions import Conflict
from core.files import read_private
from parquet import selectors, services
from parquet.forms import (
    AlertForm,
    DecisionForm,
    DeviceCreateForm,
    DeviceFilterForm,
    DeviceStatusForm,
    EmptyForm,
    FollowUpForm,
    HandoverForm,
    ReturnForm,
    WithdrawalForm,
)
from parquet.models import (
    WITHDRAWAL_REASONS_CHOICES,
    AttributionStatus,
    Decision,
    DecisionDocumentKind,
    DeviceStatus,
    DocumentStatus,
    Outcome,
)
from parquet.serializers import BeneficiarySheetSerializer
from referrals import selectors as referral_selectors
from referrals import services as referral_services
from referrals.forms import add_service_errors, parse_iso_date
from referrals.models import ChildResidence, MeasureType
from referrals.views import service_errors
from referrals.workflow import ClosureReason, Status

PAGE_SIZE = 25
STOCK_PAGE_SIZE = 50
# The decision documents, by the slug of their address.
DOCUMENT_SLUGS = {
    "decision": DecisionDocumentKind.DECISION,
    "fiche-beneficiaire": DecisionDocumentKind.BENEFICIARY_SHEET,
}
SLUG_OF_KIND = {kind: slug for slug, kind in DOCUMENT_SLUGS.items()}
END_REASONS = dict(WITHDRAWAL_REASONS_CHOICES) | {
    "renewed": "Renouvelée (nouvelle période)",
    ClosureReason.MEASURE_ENDED: "Échéance atteinte, non renouvelée",
}


# --- small helpers ----------------------------------------------------------------------------------


def _is_prosecutor(user, referral) -> bool:
    return user.role == Role.PROSECUTOR and user.has_perm("referrals.decide_referral", referral)


def _is_cidff_staff(user, referral) -> bool:
    return user.role in (Role.CIDFF_COORDINATOR, Role.EVALUATOR) and user.organisation_id == referral.cidff_id


def _conflict_page(request, message, *, back_url, back_label, status=409):
    """A 409 page that says what happened and leads back where the user came from."""
    context = {"message": message, "back_url": back_url, "back_label": back_label}
    return render(request, "parquet/web/conflict.html", context, status=status)


def _back_to_dossier(referral_id) -> dict:
    return {"back_url": reverse("referral-detail", args=[referral_id]), "back_label": "Retour au dossier"}


def _latest_sent(user, referral) -> Evaluation | None:
    return (
        cidff_selectors.evaluation_list_visible(user=user)
        .filter(referral=referral, status=EvaluationStatus.SENT)
        .select_related("instrument", "evaluator", "validated_by")
        .order_by("-sent_at", "-id")
        .first()
    )


def _document_rows(decision) -> list[dict]:
    """The decision's PDFs (the decision itself, the beneficiary sheet) with their state."""
    return [
        {
            "label": document.get_kind_display(),
            "ready": document.status == DocumentStatus.READY,
            "url": reverse("decision-document", args=[decision.pk, SLUG_OF_KIND[document.kind]]),
        }
        for document in sorted(decision.documents.all(), key=lambda d: d.kind != DecisionDocumentKind.DECISION)
    ]


def _decision_rows(user, referral) -> list[dict]:
    decisions = (
        selectors.decision_list_visible(user=user)
        .filter(referral=referral)
        .prefetch_related("documents")
        .order_by("-signed_at", "-id")
    )
    return [{"decision": decision, "documents": _document_rows(decision)} for decision in decisions]


def _report_summary(evaluation) -> dict:
    """What the prosecutor reads before deciding: levels, major factors present, eligibility, recommendations."""
    definition = evaluation.instrument.definition
    score = cidff_selectors.evaluation_score(evaluation=evaluation)
    computed = evaluation.computed_level or score.level
    retained = evaluation.final_level or evaluation.judgement or computed
    items = definition_items(definition)
    _blocks, warnings = cidff_selectors.evaluation_eligibility(evaluation=evaluation)
    return {
        "evaluation": evaluation,
        "score": score,
        "computed": computed,
        "computed_label": level_label(definition, computed),
        "retained": retained,
        "retained_label": level_label(definition, retained),
        "raised": retained != computed,
        "red_items": [(code, items[code]["text"]) for code in score.red_items if code in items],
        "eligibility_warnings": warnings,
        "recommendations": [dict(Recommendation.choices).get(code, code) for code in evaluation.recommendation or []],
        "report": EvaluationReport.objects.filter(evaluation=evaluation).first(),
    }


# --- the prosecutor: inbox and decision ----------------------------------------------------------------


@login_required
@require_GET
def decision_inbox(request):
    """Reports waiting for this prosecutor's decision: urgent first, then the longest waiting."""
    user = request.user
    if user.role != Role.PROSECUTOR:
        raise PermissionDenied("Cette page est celle du parquet.")
    referrals = selectors.decision_inbox(user=user)
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    evaluations = Evaluation.objects.filter(
        pk__in=[referral.last_evaluation_id for referral in page.object_list if referral.last_evaluation_id]
    ).select_related("instrument")
    by_id = {evaluation.pk: evaluation for evaluation in evaluations}
    rows = []
    for referral in page.object_list:
        evaluation = by_id.get(referral.last_evaluation_id)
        level = evaluation and (evaluation.final_level or evaluation.computed_level)
        rows.append(
            {
                "referral": referral,
                "evaluation": evaluation,
                "level": level,
                "level_label": level_label(evaluation.instrument.definition, level) if level else "",
            }
        )
    audit_record(actor=user, action="decision.inbox")
    return render(request, "parquet/web/inbox.html", {"page": page, "rows": rows})


def _render_decision(request, referral, *, form=None, errors=(), status=200):
    user = request.user
    evaluation = _latest_sent(user, referral)
    outcomes = selectors.expected_outcomes(referral, evaluation)
    if outcomes and form is None:
        form = DecisionForm(outcomes=outcomes, evaluation=evaluation, referral=referral)
    context = {
        "referral": referral,
        "form": form if outcomes or form is not None else None,
        "summary": _report_summary(evaluation) if evaluation else None,
        "decisions": _decision_rows(user, referral),
        "action_errors": list(errors),
        "renewal": evaluation is not None and evaluation.kind == EvaluationKind.RENEWAL,
        "renewals_done": referral.decisions.filter(outcome=Outcome.RENEWED).count(),
        "max_renewals": referral.cidff.jurisdiction.max_renewals,
    }
    return render(request, "parquet/web/decision.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def decision_page(request, pk):
    """The last report sent on the dossier, the decision form when one is expected, the decisions taken."""
    user = request.user
    if request.method == "GET":
        referral = referral_services.referral_read(user=user, referral_id=pk)  # 404 first; journaled
        if not _is_prosecutor(user, referral):
            raise PermissionDenied("Seul un magistrat du parquet de la juridiction décide.")
        return _render_decision(request, referral)

    referral = referral_selectors.referral_get_visible(user=user, referral_id=pk)  # 404 first
    if not _is_prosecutor(user, referral):
        raise PermissionDenied("Seul un magistrat du parquet de la juridiction décide.")
    evaluation = _latest_sent(user, referral)
    outcomes = selectors.expected_outcomes(referral, evaluation)
    if not outcomes:
        message = f"Aucune décision n'est attendue : le dossier est « {referral.get_status_display()} »."
        return _render_decision(request, referral, errors=[message], status=409)
    form = DecisionForm(request.POST, outcomes=outcomes, evaluation=evaluation, referral=referral)
    if form.is_valid() and not referral.evaluations.filter(pk=form.cleaned_data["evaluation"]).exists():
        form.add_error(None, "Ce rapport n'appartient pas à ce dossier : rechargez la page.")
    if not form.is_valid():
        return _render_decision(request, referral, form=form, status=400)
    try:
        decision = services.decision_create(user=user, **form.service_arguments())
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for key, errors in exc.message_dict.items():
                field = form.service_field(key)
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, exc.messages)
        return _render_decision(request, referral, form=form, status=400)
    except Conflict as exc:
        referral = referral_selectors.referral_get_visible(user=user, referral_id=pk)
        return _render_decision(request, referral, errors=[exc.message], status=exc.status_code)
    messages.success(
        request,
        f"Décision signée sur le dossier {referral.reference} : {decision.get_outcome_display()}. "
        "Le document est produit dans un instant.",
    )
    return redirect(reverse("decision-page", args=[pk]) + f"#decision-{decision.pk}")


@login_required
@require_GET
@service_errors
def decision_document(request, decision_id, kind):
    """A decision PDF (the decision, the beneficiary sheet): visible decision only, journaled; 409 until rendered."""
    if kind not in DOCUMENT_SLUGS:
        raise Http404("Document inconnu.")
    decision = selectors.decision_get_visible(user=request.user, decision_id=decision_id)
    document = decision.documents.filter(kind=DOCUMENT_SLUGS[kind]).first()
    if document is None:
        raise Http404("Document introuvable.")
    if document.status != DocumentStatus.READY:
        message = "Le document est en cours de génération : réessayez dans un instant."
        return _conflict_page(request, message, **_back_to_dossier(decision.referral_id))
    audit_record(actor=request.user, action="decision.document", obj=document)
    filename = f"{decision.referral.reference}-{kind}-{decision.pk}.pdf"
    return pdf_response(filename, read_private(document.storage_name))


# --- the CIDFF: phone stock ---------------------------------------------------------------------------


def _stock_user(user):
    if user.role not in (Role.CIDFF_COORDINATOR, Role.SUPERVISOR):
        raise PermissionDenied("Le stock de téléphones est géré par la coordination des CIDFF.")


def _render_stock(request, *, create_form=None, status=200):
    user = request.user
    devices = selectors.device_list_visible(user=user)
    counts = dict(devices.order_by().values_list("status").annotate(n=Count("id")))
    filter_form = DeviceFilterForm(request.GET or None, counts=counts)
    state = filter_form.cleaned_data["etat"] if filter_form.is_valid() else ""
    if state:
        devices = devices.filter(status=state)
    page = Paginator(devices.order_by("organisation__name", "serial"), STOCK_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    coordinator = user.role == Role.CIDFF_COORDINATOR
    context = {
        "page": page,
        "filter_form": filter_form,
        "state_label": DeviceStatus(state).label if state else "",
        "page_query": f"etat={state}&" if state else "",
        "in_stock": counts.get(DeviceStatus.IN_STOCK, 0),
        "total": sum(counts.values()),
        "is_coordinator": coordinator,
        "all_cidffs": user.role == Role.SUPERVISOR,
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
    if user.role != Role.CIDFF_COORDINATOR:
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
    coordinator = user.role == Role.CIDFF_COORDINATOR
    current = (
        selectors.attribution_list_visible(user=user)
        .filter(device=device, status=AttributionStatus.ACTIVE)
        .select_related("referral")
        .first()
    )
    may_change = coordinator and device.status != DeviceStatus.ASSIGNED
    context = {
        "device": device,
        "events": device.events.select_related("actor").order_by("-created_at", "-id"),
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
    _stock_user(user)
    device = selectors.device_get_visible(user=user, device_id=device_id)  # 404 first
    if request.method == "GET":
        return _render_device(request, device)
    if user.role != Role.CIDFF_COORDINATOR:
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


# --- the CIDFF: handover --------------------------------------------------------------------------------


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
    if not referral_selectors.is_cidff_coordinator(user=user, referral=referral):
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
        return _conflict_page(request, message, **_back_to_dossier(pk))
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
            return _conflict_page(request, exc.message, status=exc.status_code, **_back_to_dossier(pk))
        return _render_handover(request, referral, decision, form=fresh, errors=[exc.message], status=exc.status_code)
    messages.success(
        request,
        f"Téléphone {attribution.device.phone_number} remis : la mesure court jusqu'au "
        f"{attribution.end_date:%d/%m/%Y}. L'opérateur de téléassistance reçoit la fiche bénéficiaire.",
    )
    return redirect(reverse("referral-detail", args=[pk]) + "#mesure")


# --- the dossier page: the measure panel and its actions -------------------------------------------------


@dataclass(frozen=True)
class MeasureAction:
    form_class: type
    title: str
    run: Callable  # (user, referral, attribution, cleaned_data) -> None
    success: str


def _last_attribution(referral):
    return referral.attributions.order_by("-start_date", "-id").first()


MEASURE_ACTIONS = {
    "retrait": MeasureAction(
        WithdrawalForm,
        "Retirer le téléphone",
        lambda user, referral, attribution, data: services.attribution_withdraw(
            user=user,
            attribution_id=attribution.pk if attribution else None,
            reason=data["reason"],
            comment=data["comment"],
            copil_opinion_date=data["copil_opinion_date"],
        ),
        "Téléphone retiré : la mesure du dossier {reference} prend fin, le CIDFF organise la restitution.",
    ),
    "reevaluation": MeasureAction(
        EmptyForm,
        "Lancer la réévaluation",
        lambda user, referral, attribution, data: services.measure_start_reevaluation(
            user=user, referral_id=referral.pk
        ),
        "Réévaluation du dossier {reference} lancée : l'évaluatrice peut commencer la réévaluation.",
    ),
    "restitution": MeasureAction(
        ReturnForm,
        "Enregistrer la restitution",
        lambda user, referral, attribution, data: services.attribution_return(
            user=user,
            attribution_id=attribution.pk if attribution else None,
            returned_on=data["returned_on"],
            condition=data["condition"],
            notes=data["notes"],
        ),
        "Restitution enregistrée : le dossier {reference} est clôturé.",
    ),
    "suivi": MeasureAction(
        FollowUpForm,
        "Ajouter un contact de suivi",
        lambda user, referral, attribution, data: services.followup_create(
            user=user, referral_id=referral.pk, date=data["date"], channel=data["channel"], notes=data["notes"]
        ),
        "Contact de suivi ajouté au dossier {reference}.",
    ),
}


def _measure_forms(user, referral, attribution) -> dict:
    """The measure's action forms that make sense for this user and this state (the services still decide)."""
    forms = {}
    if referral_selectors.is_cidff_coordinator(user=user, referral=referral):
        if referral.status == Status.ACTIVE:
            forms["reevaluation"] = EmptyForm(prefix="reevaluation")
        if referral.status == Status.ENDED and attribution and attribution.status != AttributionStatus.ACTIVE:
            forms["restitution"] = ReturnForm(prefix="restitution")
    if (
        _is_cidff_staff(user, referral)
        and user.has_perm("referrals.change_referral", referral)
        and referral.status in (Status.GRANTED, Status.ACTIVE, Status.REEVALUATION, Status.ENDED)
    ):
        forms["suivi"] = FollowUpForm(prefix="suivi")
    if (
        _is_prosecutor(user, referral)
        and referral.status in (Status.ACTIVE, Status.REEVALUATION)
        and attribution
        and attribution.status == AttributionStatus.ACTIVE
    ):
        forms["retrait"] = WithdrawalForm(prefix="retrait")
    return forms


def measure_panel(*, user, referral, bound=None) -> dict | None:
    """The "Mesure" section of the dossier page, or None when it is not for this user (or not yet relevant).

    CIDFF and parquet only: never the referrer (her page shows the outcome notice), never the operator.
    `bound` replaces blank action forms by the posted ones (with their errors).
    """
    if referral.referrer_id == user.pk or user.role not in (
        Role.CIDFF_COORDINATOR,
        Role.EVALUATOR,
        Role.PROSECUTOR,
    ):
        return None
    decisions = _decision_rows(user, referral)
    periods = list(
        selectors.attribution_list_visible(user=user)
        .filter(referral=referral)
        .select_related("device", "agreement")
        .order_by("-start_date", "-id")
    )
    if not decisions and not periods:
        return None
    today = timezone.localdate()
    current = next((period for period in periods if period.status == AttributionStatus.ACTIVE), None)
    last = periods[0] if periods else None
    forms = {**_measure_forms(user, referral, last), **(bound or {})}
    failed = next((name for name, form in (bound or {}).items() if form.errors), None)
    cidff = _is_cidff_staff(user, referral)
    jurisdiction = referral.cidff.jurisdiction
    days_left = (current.end_date - today).days if current else None
    expects_decision = _is_prosecutor(user, referral) and bool(
        selectors.expected_outcomes(referral, _latest_sent(user, referral))
    )
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
        "alerts": list(
            selectors.alert_list_visible(user=user)
            .filter(attribution__referral=referral)
            .order_by("-occurred_at", "-id")
        ),
        "followups": list(selectors.followup_list(referral=referral)) if cidff else None,
        "device_return": getattr(referral, "device_return", None),
        "forms": forms,
        "failed": failed and {"anchor": f"form-{failed}", "title": MEASURE_ACTIONS[failed].title},
        "handover_url": (
            reverse("handover", args=[referral.pk])
            if referral_selectors.is_cidff_coordinator(user=user, referral=referral)
            and referral.status == Status.GRANTED
            else ""
        ),
        "decision_url": reverse("decision-page", args=[referral.pk]) if _is_prosecutor(user, referral) else "",
        "expects_decision": expects_decision,
    }


def _render_dossier(request, pk, *, bound=None, errors=(), status=400):
    """The dossier page once more, with the posted measure form and its errors (the reading is journaled)."""
    from referrals.views import _render_detail

    referral = referral_services.referral_read(user=request.user, referral_id=pk)
    return _render_detail(request, referral, errors=errors, status=status, measure_bound=bound)


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
    if not form.is_valid():
        return _render_dossier(request, pk, bound={action: form})
    try:
        spec.run(user, referral, _last_attribution(referral), form.cleaned_data)
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _render_dossier(request, pk, bound={action: form})
    except Conflict as exc:
        return _render_dossier(request, pk, errors=[exc.message], status=exc.status_code)
    messages.success(request, spec.success.format(reference=referral.reference))
    if not referral_selectors.referral_list_visible(user=user).filter(pk=pk).exists():
        return redirect("referral-list")
    return redirect(reverse("referral-detail", args=[pk]) + "#mesure")


# --- the operator: beneficiary sheets -------------------------------------------------------------------


def _day(value):
    return parse_iso_date(value)


def _sheet(attribution) -> dict:
    """Exactly the beneficiary sheet of the API (BeneficiarySheetSerializer), ready to read."""
    data = BeneficiarySheetSerializer(attribution).data
    residences = dict(ChildResidence.choices)
    measure_types = dict(MeasureType.choices)
    return {
        **data,
        "start_date": _day(data["start_date"]),
        "end_date": _day(data["end_date"]),
        "victim": {**data["victim"], "birth_date": _day(data["victim"].get("birth_date"))},
        "author": {**data["author"], "birth_date": _day(data["author"].get("birth_date"))},
        "children": [
            {
                "first_name": child.get("first_name", ""),
                "birth_date": _day(child.get("birth_date")),
                "common_child": child.get("common_child"),
                "residence": residences.get(child.get("residence", ""), ""),
            }
            for child in data["children"] or []
        ],
        "measures": [
            {
                "type": measure_types.get(measure.get("type", ""), measure.get("type", "")),
                "authority": measure.get("authority", ""),
                "date": _day(measure.get("date")),
                "no_contact_ban": measure.get("no_contact_ban"),
                "expiry": _day(measure.get("expiry")),
            }
            for measure in data["measures"] or []
        ],
    }


@login_required
@require_GET
def sheet_list(request):
    """The active measures the user may see; for the operator, her beneficiary sheets."""
    user = request.user
    attributions = (
        selectors.attribution_list_visible(user=user).filter(status=AttributionStatus.ACTIVE).order_by("end_date", "id")
    )
    page = Paginator(attributions, PAGE_SIZE).get_page(request.GET.get("page"))
    audit_record(actor=user, action="attribution.list")
    return render(request, "parquet/web/sheets.html", {"page": page, "today": timezone.localdate()})


def _render_sheet(request, attribution, *, form=None, errors=(), status=200):
    user = request.user
    operator = user.role == Role.OPERATOR
    active = attribution.status == AttributionStatus.ACTIVE
    document = attribution.decision.documents.filter(kind=DecisionDocumentKind.BENEFICIARY_SHEET).first()
    context = {
        "attribution": attribution,
        "sheet": _sheet(attribution),
        "alerts": selectors.alert_list_visible(user=user).filter(attribution=attribution).order_by("-occurred_at"),
        "form": form or (AlertForm(prefix="alerte") if operator and active else None),
        "action_errors": list(errors),
        "pdf": document and {"ready": document.status == DocumentStatus.READY},
    }
    return render(request, "parquet/web/sheet.html", context, status=status)


@login_required
@require_GET
@service_errors
def sheet_detail(request, attribution_id):
    attribution = selectors.attribution_get_visible(user=request.user, attribution_id=attribution_id)
    audit_record(actor=request.user, action="attribution.view", obj=attribution)
    return _render_sheet(request, attribution)


@login_required
@require_POST
@service_errors
def sheet_alert(request, attribution_id):
    """The operator reports an alert on an active phone."""
    user = request.user
    attribution = selectors.attribution_get_visible(user=user, attribution_id=attribution_id)  # 404 first
    form = AlertForm(request.POST, prefix="alerte")
    status, errors = 400, []
    if form.is_valid():
        data = form.cleaned_data
        try:
            alert = services.alert_create(
                user=user,
                attribution_id=attribution.pk,
                occurred_at=data["occurred_at"],
                kind=data["kind"],
                police_intervention=data["police_intervention"],
                arrest=data["arrest"],
                notes=data["notes"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            status, errors, form = exc.status_code, [exc.message], None
        else:
            messages.success(
                request,
                f"{alert.get_kind_display()} du {timezone.localtime(alert.occurred_at):%d/%m/%Y à %H:%M} "
                f"enregistrée pour le dossier {attribution.referral.reference}.",
            )
            return redirect(reverse("sheet-detail", args=[attribution.pk]) + "#alertes")
    return _render_sheet(request, attribution, form=form, errors=errors, status=status)


@login_required
@require_GET
@service_errors
def sheet_pdf(request, attribution_id):
    """The beneficiary sheet PDF of the period (the operator's copy), journaled; 409 until rendered."""
    attribution = selectors.attribution_get_visible(user=request.user, attribution_id=attribution_id)
    document = attribution.decision.documents.filter(kind=DecisionDocumentKind.BENEFICIARY_SHEET).first()
    if document is None:
        raise Http404("Document introuvable.")
    if document.status != DocumentStatus.READY:
        return _conflict_page(
            request,
            "La fiche est en cours de génération : réessayez dans un instant.",
            back_url=reverse("sheet-detail", args=[attribution.pk]),
            back_label="Retour à la fiche",
        )
    audit_record(actor=request.user, action="attribution.sheet_pdf", obj=document)
    filename = f"{attribution.referral.reference}-fiche-beneficiaire-{attribution.pk}.pdf"
    return pdf_response(filename, read_private(document.storage_name))
