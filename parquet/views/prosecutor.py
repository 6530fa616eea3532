"""The prosecutor's pages: the inbox of reports to decide, the decision page, the decision documents."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from audit.services import audit_record
from cidff import selectors as cidff_selectors
from cidff.api import pdf_response
from cidff.instruments import definition_items, level_label
from cidff.models import EvaluationKind, EvaluationReport, Recommendation
from core.exceptions import Conflict
from core.web import service_errors
from parquet import selectors, services
from parquet.forms import (
    DecisionForm,
)
from parquet.models import (
    Outcome,
)
from parquet.views.common import (
    DOCUMENT_SLUGS,
    back_to_dossier,
    conflict_page,
    decision_rows,
    latest_sent,
)
from referrals import selectors as referral_selectors
from referrals import services as referral_services
from referrals.policies import referral_policy
from referrals.worklists import work_queue_context


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
    """The parquet's work queues: reports to decide (urgent first, then the longest waiting), phones reserved,
    measures running, deadlines near — searched, filtered, sorted and paginated like the dossier list."""
    user = request.user
    if not referral_policy.is_prosecutor(user):
        raise PermissionDenied("Cette page est celle du parquet.")
    board = referral_selectors.referral_work_queues(user=user, params=request.GET)
    referrals = list(board.page.object_list)
    latest = cidff_selectors.evaluation_latest_sent_of(referrals=referrals)
    rows = []
    for referral in referrals:
        evaluation = latest.get(referral.pk)
        level = evaluation and (evaluation.final_level or evaluation.computed_level)
        rows.append(
            {
                "referral": referral,
                "evaluation": evaluation,
                "level": level,
                "level_label": level_label(evaluation.instrument.definition, level) if level else "",
            }
        )
    audit_record(actor=user, action="referral.search" if board.searching else "decision.inbox")
    context = work_queue_context(request, board, title="Rapports à décider") | {"rows": rows}
    return render(request, "parquet/web/inbox.html", context)


def _render_decision(request, referral, *, form=None, errors=(), status=200, step="", recap=None):
    """The decision page. Its form has three steps, without JavaScript: choose the outcome (a GET form, so the
    address says which one), fill only that outcome's fields, then read the recap and sign (nothing is signed
    before). `step`: "choose", "fill" or "confirm" ("" picks from the form)."""
    user = request.user
    evaluation = latest_sent(user, referral)
    outcomes = selectors.expected_outcomes(referral, evaluation)
    if outcomes and form is None:
        proposed = request.GET.get("outcome", "")
        form = DecisionForm(outcomes=outcomes, evaluation=evaluation, referral=referral)
        form.initial["outcome"] = proposed
        if proposed and not form.chosen():
            errors = [*errors, "Cette décision n'est pas possible : choisissez parmi celles proposées."]
    if form is not None and not step:
        step = "fill" if form.chosen() else "choose"
    context = {
        "referral": referral,
        "form": form if outcomes or form is not None else None,
        "step": step,
        "chosen_fields": form.chosen_fields() if form is not None else [],
        "chosen_label": dict(Outcome.choices).get(form.chosen(), "") if form is not None else "",
        "recap": recap,
        "summary": _report_summary(evaluation) if evaluation else None,
        "decisions": decision_rows(user, referral),
        "action_errors": list(errors),
        "renewal": evaluation is not None and evaluation.kind == EvaluationKind.RENEWAL,
        "renewals_done": referral.decisions.filter(outcome=Outcome.RENEWED).count(),
        "max_renewals": referral.cidff.jurisdiction.max_renewals,
    }
    return render(request, "parquet/web/decision.html", context, status=status)


def _put_service_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for key, errors in exc.message_dict.items():
            field = form.service_field(key)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def decision_page(request, pk):
    """The last report sent on the dossier, the decision form when one is expected, the decisions taken.

    POST without `signer`: every check of the service, nothing written, then the recap to confirm (200), or the
    outcome's fields again with their errors (400); `modifier` goes back to the fields; `signer` signs (302)."""
    user = request.user
    if request.method == "GET":
        referral = referral_services.referral_read(user=user, referral_id=pk)  # 404 first; journaled
        if not referral_policy.may_decide(user, referral):
            raise PermissionDenied("Seul un magistrat du parquet de la juridiction décide.")
        return _render_decision(request, referral)

    referral = referral_selectors.referral_get_visible(user=user, referral_id=pk)  # 404 first
    if not referral_policy.may_decide(user, referral):
        raise PermissionDenied("Seul un magistrat du parquet de la juridiction décide.")
    evaluation = latest_sent(user, referral)
    outcomes = selectors.expected_outcomes(referral, evaluation)
    if not outcomes:
        message = f"Aucune décision n'est attendue : le dossier est « {referral.get_status_display()} »."
        return _render_decision(request, referral, errors=[message], status=409)
    form = DecisionForm(request.POST, outcomes=outcomes, evaluation=evaluation, referral=referral)
    if "modifier" in request.POST:
        return _render_decision(request, referral, form=form, step="fill" if form.chosen() else "choose")
    if form.is_valid() and not referral.evaluations.filter(pk=form.cleaned_data["evaluation"]).exists():
        form.add_error(None, "Ce rapport n'appartient pas à ce dossier : rechargez la page.")
    if not form.is_valid():
        return _render_decision(request, referral, form=form, status=400)
    try:
        if "signer" not in request.POST:
            recap = services.decision_check(user=user, **form.service_arguments())
            return _render_decision(request, referral, form=form, step="confirm", recap=recap)
        decision = services.decision_create(user=user, **form.service_arguments())
    except ValidationError as exc:
        _put_service_errors(form, exc)
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
    try:
        data = services.decision_document_open(user=request.user, decision=decision, kind=DOCUMENT_SLUGS[kind])
    except Conflict as exc:
        return conflict_page(request, exc.message, **back_to_dossier(decision.referral_id))
    return pdf_response(f"{decision.referral.reference}-{kind}-{decision.pk}.pdf", data)
