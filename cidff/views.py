"""Web pages of the danger evaluation (thin: forms in, cidff.services do the work).

NotFound → 404 and Forbidden → 403 are mapped once by `core.web.service_errors`; the views
that can explain a ValidationError or a Conflict next to a form catch them and render the page
again with the posted form (nothing typed is lost).

Pages: the evaluator's form (`evaluation-edit`, read-only once finalized or for anyone else), the
coordinator's second reading (`evaluation-review`) and the report PDF. The dossier page shows the
dossier's evaluations through `referral_evaluations`.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cidff import selectors, services
from cidff.api import pdf_response
from cidff.eligibility import BAN_FRAMEWORKS, ExceptionGround, LegalBasis, VictimCategory
from cidff.forms import AddendumForm, EmptyForm, EvaluationForm, ReturnForm
from cidff.instruments import ANSWER_LABELS, definition_items
from cidff.models import (
    EVALUATION_STEPS,
    OPEN_EVALUATION_STATUSES,
    EvaluationKind,
    EvaluationReport,
    EvaluationStatus,
    Recommendation,
)
from cidff.policies import evaluation_policy
from core.exceptions import Conflict
from core.web import PageAction, add_service_errors, parse_iso_date, run_page_action, service_errors
from referrals.models import MeasureType
from referrals.policies import referral_policy
from referrals.selectors import referral_actions
from referrals.workflow import Status

# The kind of evaluation a dossier in this state starts (the service checks it again).
START_KIND = {status: kind for kind, status in services.KIND_REFERRAL_STATUS.items()}
START_LABELS = {
    EvaluationKind.INITIAL: "Commencer l'évaluation",
    EvaluationKind.RENEWAL: "Commencer la réévaluation",
    EvaluationKind.COMPLEMENT: "Commencer le complément d'évaluation",
}
# The parts of the form that are not instrument sections (anchor → title).
FIXED_PARTS = {
    "section-eligibilite": "Éligibilité",
    "section-entretien": "Entretien",
    "section-conclusion": "Conclusion",
}


# --- small helpers ----------------------------------------------------------------------------------


def _fills(user, evaluation) -> bool:
    """The evaluator sees the form while her evaluation is a draft; everyone else reads."""
    return evaluation_policy.may_fill(user, evaluation) and evaluation.status == EvaluationStatus.DRAFT


def _day(value) -> str:
    parsed = parse_iso_date(value)
    return date_format(parsed, "SHORT_DATE_FORMAT") if parsed else ""


def _yes_no(value) -> str:
    return {True: "Oui", False: "Non"}.get(value, "Non précisé")


def _label(choices, value) -> str:
    return dict(choices).get(value, value or "")


def _level_label(definition: dict, code: str) -> str:
    return next((level["label"] for level in definition["levels"] if level["code"] == code), code)


def _now() -> str:
    return timezone.localtime().strftime("%H:%M")


def _report(evaluation):
    return EvaluationReport.objects.filter(evaluation=evaluation).first()


# --- what every evaluation page shows ----------------------------------------------------------------


def _score_context(evaluation) -> dict:
    """Score (live from the answers), computed and retained levels; frozen levels once finalized."""
    definition = evaluation.instrument.definition
    score = selectors.evaluation_score(evaluation=evaluation)
    computed = evaluation.computed_level or score.level
    retained = evaluation.final_level or evaluation.judgement or computed
    items = definition_items(definition)
    return {
        "score": score,
        "computed_label": _level_label(definition, computed),
        "retained_label": _level_label(definition, retained),
        "raised": retained != computed,
        "red_items": [(code, items[code]["text"]) for code in score.red_items if code in items],
        "unknown_limit": definition["incomplete_when_unknown_over"],
    }


def _eligibility_context(evaluation) -> dict:
    """Eligibility blocks and warnings, and `blocking`: everything that would refuse the sending (and the
    validation) now — shown before the finalize, validate and send buttons, so no step leads to a dead end."""
    blocks, warnings = selectors.evaluation_eligibility(evaluation=evaluation)
    sent = evaluation.status == EvaluationStatus.SENT
    blocking = [] if sent else selectors.evaluation_blocking(evaluation=evaluation)
    return {"eligibility_blocks": blocks, "eligibility_warnings": warnings, "blocking": blocking}


def _referral_declared(referral) -> list[tuple[str, str]]:
    """What the referrer declared that the eligibility form was pre-filled from (the evaluator confirms it)."""
    rows = [("Cohabitation avec l'auteur", _yes_no(referral.cohabiting))]
    if referral.separation_date:
        rows.append(("Date de séparation", date_format(referral.separation_date, "SHORT_DATE_FORMAT")))
    for measure in referral.measures or []:
        if not isinstance(measure, dict):
            continue
        parts = [_label(MeasureType.choices, measure.get("type")) or "Mesure"]
        if measure.get("authority"):
            parts.append(str(measure["authority"]))
        if measure.get("date"):
            parts.append(f"du {_day(measure['date'])}")
        ban = measure.get("no_contact_ban") is True
        parts.append("interdiction de contact" if ban else "sans interdiction de contact")
        if measure.get("expiry"):
            parts.append(f"échéance le {_day(measure['expiry'])}")
        rows.append(("Mesure judiciaire", ", ".join(parts)))
    return rows


def _eligibility_rows(evaluation) -> list[tuple[str, str]]:
    data = evaluation.eligibility or {}
    rows = [
        ("Catégorie de victime", _label(VictimCategory.choices, data.get("victim_category"))),
        ("Cohabitation avec l'auteur", _yes_no(data.get("cohabiting"))),
        ("Consentement exprès de la victime", _yes_no(data.get("consent"))),
        ("Fondement", _label(LegalBasis.choices, data.get("legal_basis"))),
    ]
    if data.get("legal_basis") == LegalBasis.CONTACT_BAN:
        rows += [
            ("Cadre de l'interdiction de contact", _label(BAN_FRAMEWORKS, data.get("ban_framework"))),
            ("Autorité", data.get("ban_authority", "")),
            ("Date de la décision", _day(data.get("ban_date"))),
            ("Échéance", _day(data.get("ban_expiry"))),
        ]
    elif data.get("legal_basis") == LegalBasis.IMMINENT_DANGER:
        rows += [
            ("Motif de l'exception", _label(ExceptionGround.choices, data.get("exception_ground"))),
            ("Justification", data.get("justification", "")),
        ]
    return rows


CORRECTION_LABELS = {
    "victim_category": ("Catégorie de victime", lambda value: _label(VictimCategory.choices, value)),
    "cohabiting": ("Cohabitation avec l'auteur", _yes_no),
    "consent": ("Consentement exprès", _yes_no),
    "legal_basis": ("Fondement", lambda value: _label(LegalBasis.choices, value)),
    "ban_framework": ("Cadre de l'interdiction", lambda value: _label(BAN_FRAMEWORKS, value)),
    "ban_authority": ("Autorité", str),
    "ban_date": ("Date de la décision", _day),
    "ban_expiry": ("Échéance de l'interdiction", _day),
    "exception_ground": ("Motif de l'exception", lambda value: _label(ExceptionGround.choices, value)),
    "justification": ("Justification", str),
}


def _addenda(evaluation) -> list:
    """The addenda, each with its eligibility corrections in words (`corrections`)."""
    addenda = list(evaluation.addenda.select_related("author"))
    for addendum in addenda:
        addendum.corrections = [
            f"{CORRECTION_LABELS[key][0]} : {CORRECTION_LABELS[key][1](value) or '—'}"
            for key, value in (addendum.eligibility or {}).items()
            if key in CORRECTION_LABELS
        ]
    return addenda


def _answer_sections(evaluation) -> list[dict]:
    answers = evaluation.answers or {}
    sections = []
    for section in evaluation.instrument.definition["sections"]:
        rows = []
        for item in section["items"]:
            answer = answers.get(item["code"]) or {}
            value = answer.get("answer")
            rows.append(
                {
                    **item,
                    "answer": value,
                    "answer_label": ANSWER_LABELS.get(value, "Sans réponse"),
                    "comment": answer.get("comment", ""),
                    "alert": item["red"] and value == "yes",
                }
            )
        sections.append({"code": section["code"], "title": section["title"], "rows": rows})
    return sections


def _interview(evaluation) -> dict:
    interview = evaluation.interview or {}
    return {"dates": [_day(day) for day in interview.get("dates") or []], "place": interview.get("place", "")}


# --- the dossier page: its evaluations -----------------------------------------------------------------


def referral_evaluations(*, user, referral, bound=None) -> dict | None:
    """The "Évaluation du danger" section of the dossier page, or None when it is not for this user.

    Never for the referrer; the parquet sees only the evaluations sent to it (the selector decides).
    """
    if referral.referrer_id == user.pk:
        return None
    evaluations = selectors.evaluation_list_of_dossier(user=user, referral=referral)
    if not evaluations and not referral_policy.may_follow(user, referral):
        return None
    coordinator = referral_policy.may_coordinate(user, referral)
    reports = {report.evaluation_id: report for report in EvaluationReport.objects.filter(referral=referral)}
    rows = []
    for evaluation in evaluations:
        definition = evaluation.instrument.definition
        if _fills(user, evaluation):
            url, link = reverse("evaluation-edit", args=[evaluation.pk]), "Continuer la saisie"
        elif coordinator and evaluation.status != EvaluationStatus.DRAFT:
            url, link = reverse("evaluation-review", args=[evaluation.pk]), "Seconde lecture"
        else:
            url, link = reverse("evaluation-edit", args=[evaluation.pk]), "Consulter"
        rows.append(
            {
                "evaluation": evaluation,
                "level": _level_label(definition, evaluation.final_level) if evaluation.final_level else "",
                "url": url,
                "link": link,
                "report": reports.get(evaluation.pk),
            }
        )
    kind = START_KIND.get(referral.status)
    can_start = (
        kind is not None
        and referral_policy.may_evaluate(user, referral)
        and not any(evaluation.status in OPEN_EVALUATION_STATUSES for evaluation in evaluations)
    )
    return {
        "rows": rows,
        "can_start": can_start,
        "start_label": START_LABELS.get(kind, ""),
        "waiting": referral.status == Status.EVALUATION and not evaluations and referral.evaluator_id is not None,
    }


def linked_evaluations_panel(*, user, referral, bound=None) -> dict | None:
    """A read-only summary (dossier, date, level) of the evaluations of the earlier dossiers linked to this one
    as the same woman, for the CIDFF following it when it holds them too (the selector decides)."""
    rows = [
        {
            "reference": evaluation.referral.reference,
            "kind": evaluation.get_kind_display(),
            "status": evaluation.get_status_display(),
            "date": evaluation.sent_at or evaluation.validated_at,
            "level_code": evaluation.final_level,
            "level": _level_label(evaluation.instrument.definition, evaluation.final_level)
            if evaluation.final_level
            else "",
        }
        for evaluation in selectors.linked_evaluations(user=user, referral=referral)
    ]
    return {"rows": rows} if rows else None


@login_required
@require_POST
@service_errors
def evaluation_start(request, pk):
    """Start the evaluation of a dossier (pk is the dossier's: a conflict page links back to it)."""
    referral = referral_policy.get_visible(request.user, pk)
    kind = START_KIND.get(referral.status, EvaluationKind.INITIAL)
    evaluation = services.evaluation_create(user=request.user, referral_id=pk, kind=kind)
    messages.success(request, f"{EvaluationKind(kind).label} du dossier {referral.reference} commencée.")
    return redirect("evaluation-edit", evaluation_id=evaluation.pk)


# --- the evaluator's form ------------------------------------------------------------------------------


def _render_form(request, evaluation, form, *, status=200, finalize_failed=False):
    context = {
        "evaluation": evaluation,
        "referral": evaluation.referral,
        "form": form,
        "grid": form.grid(),
        "error_summary": form.error_summary() if form.is_bound else [],
        "finalize_failed": finalize_failed,
        "api_url": reverse("api-evaluation-detail", args=[evaluation.pk]),
        "declared": _referral_declared(evaluation.referral),
        "missing_items": form.missing_item_links(),
        **_score_context(evaluation),
        **_eligibility_context(evaluation),
    }
    return render(request, "cidff/evaluation_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
@service_errors
def evaluation_edit(request, evaluation_id):
    user = request.user
    if request.method == "GET":
        evaluation = services.evaluation_read(user=user, evaluation_id=evaluation_id)
        if _fills(user, evaluation):
            return _render_form(request, evaluation, EvaluationForm(evaluation=evaluation))
        return _render_read(request, evaluation, mode="read")

    evaluation = selectors.evaluation_get_visible(user=user, evaluation_id=evaluation_id)  # 404 first
    if not evaluation_policy.may_fill(user, evaluation):
        raise PermissionDenied("Seule l'évaluatrice du dossier remplit la grille.")
    if evaluation.status != EvaluationStatus.DRAFT:
        return _conflict(request, evaluation, "L'évaluation est finalisée : ses réponses ne se modifient plus.")
    form = EvaluationForm(request.POST, evaluation=evaluation)
    if not form.is_valid():
        return _render_form(request, evaluation, form, status=400)
    try:
        evaluation = services.evaluation_update(user=user, evaluation_id=evaluation_id, data=form.payload())
    except ValidationError as exc:
        form.add_service_errors(exc)
        return _render_form(request, evaluation, form, status=400)
    except Conflict as exc:
        return _conflict(request, evaluation, exc.message)

    if "finaliser" in request.POST:
        try:
            services.evaluation_finalize(user=user, evaluation_id=evaluation_id)
        except ValidationError as exc:
            items = definition_items(evaluation.instrument.definition)
            form.add_service_errors(exc, unanswered=[code for code in items if code not in evaluation.answers])
            return _render_form(request, evaluation, form, status=400, finalize_failed=True)
        except Conflict as exc:
            return _conflict(request, evaluation, exc.message)
        messages.success(
            request,
            "Évaluation finalisée : la coordination est prévenue pour la seconde lecture. "
            "Les réponses ne se modifient plus ; une correction passe par un addendum.",
        )
        blocking = selectors.evaluation_blocking(evaluation=evaluation)
        if blocking:
            messages.warning(
                request,
                "Attention : la seconde lecture ne pourra pas valider ni transmettre le rapport tant que "
                f"ces points restent bloquants : {' '.join(blocking)} Corrigez-les par un addendum.",
            )
        return redirect("evaluation-edit", evaluation_id=evaluation_id)

    parts = {
        f"grille-{section['code']}": section["title"] for section in evaluation.instrument.definition["sections"]
    } | FIXED_PARTS
    part = request.POST.get("enregistrer", "")
    if part in parts:
        messages.success(request, f"Section « {parts[part]} » enregistrée à {_now()}.")
        return redirect(reverse("evaluation-edit", args=[evaluation_id]) + f"#{part}")
    messages.success(request, f"Évaluation enregistrée à {_now()}.")
    return redirect("evaluation-edit", evaluation_id=evaluation_id)


def _conflict(request, evaluation, message):
    """The evaluation moved on meanwhile (finalized, sent): say so on its read-only page, 409."""
    evaluation = services.evaluation_read(user=request.user, evaluation_id=evaluation.pk)
    return _render_read(request, evaluation, mode="read", errors=[message], status=409)


# --- read-only view and second reading -----------------------------------------------------------------


def _render_read(request, evaluation, *, mode, bound=None, errors=(), status=200):
    """Everything the report will contain; the second reader's actions on `mode="review"`."""
    user = request.user
    referral = evaluation.referral
    coordinator = evaluation_policy.may_second_read(user, evaluation)
    forms = {}
    if mode == "review" and coordinator:
        if evaluation.status == EvaluationStatus.FINALIZED:
            forms["valider"] = EmptyForm(prefix="valider")
        elif "report_sent" in referral_actions(user=user, referral=referral):  # the table's step, as on the dossier
            forms["transmettre"] = EmptyForm(prefix="transmettre")
        if evaluation.status in EVALUATION_STEPS["return"].sources:  # validated too, until it is sent
            forms["renvoyer"] = ReturnForm(prefix="renvoyer")
    forms.update({name: form for name, form in (bound or {}).items() if name != "addendum"})
    may_add = evaluation.status in (
        EvaluationStatus.FINALIZED,
        EvaluationStatus.VALIDATED,
    ) and evaluation_policy.may_amend(user, evaluation)
    addendum_form = (bound or {}).get("addendum") or (
        AddendumForm(prefix="addendum", initial={"retour": "seconde-lecture" if mode == "review" else "lecture"})
        if may_add
        else None
    )
    definition = evaluation.instrument.definition
    context = {
        "mode": mode,
        "evaluation": evaluation,
        "referral": referral,
        "is_coordinator": coordinator,
        "is_author": evaluation.evaluator_id == user.pk,
        "forms": forms,
        "addendum_form": addendum_form,
        "action_errors": list(errors),
        "failed": next((name for name, form in (bound or {}).items() if form.errors), None),
        "sections": _answer_sections(evaluation),
        "eligibility_rows": _eligibility_rows(evaluation),
        "interview": _interview(evaluation),
        "judgement_label": _level_label(definition, evaluation.judgement) if evaluation.judgement else "",
        "recommendations": [_label(Recommendation.choices, code) for code in evaluation.recommendation or []],
        "addenda": _addenda(evaluation),
        "report": _report(evaluation) if evaluation.status == EvaluationStatus.SENT else None,
        "pdf_url": reverse("evaluation-report", args=[evaluation.pk]),
        **_score_context(evaluation),
        **_eligibility_context(evaluation),
    }
    if request.method == "POST":  # a failed action: the page is the evaluation's, and says so (see base.html)
        page = "evaluation-review" if mode == "review" else "evaluation-edit"
        context["canonical_url"] = reverse(page, args=[evaluation.pk])
    return render(request, "cidff/evaluation_review.html", context, status=status)


@login_required
@require_GET
@service_errors
def evaluation_review(request, evaluation_id):
    evaluation = services.evaluation_read(user=request.user, evaluation_id=evaluation_id)
    return _render_read(request, evaluation, mode="review")


# The second reader's actions: run(user, evaluation_id, cleaned_data) -> Evaluation;
# {reference} and {evaluator} are filled in the success message.
REVIEW_ACTIONS = {
    "renvoyer": PageAction(
        ReturnForm,
        lambda user, pk, data: services.evaluation_return(user=user, evaluation_id=pk, comment=data["comment"]),
        "Évaluation du dossier {reference} renvoyée à {evaluator}, avec votre commentaire.",
    ),
    "valider": PageAction(
        EmptyForm,
        lambda user, pk, data: services.evaluation_validate(user=user, evaluation_id=pk),
        "Évaluation du dossier {reference} validée (seconde lecture) : elle peut être transmise au parquet.",
    ),
    "transmettre": PageAction(
        EmptyForm,
        lambda user, pk, data: services.evaluation_send(user=user, evaluation_id=pk),
        "Rapport d'évaluation du dossier {reference} transmis au parquet.",
    ),
}


@login_required
@require_POST
@service_errors
def evaluation_action(request, evaluation_id, action):
    spec = REVIEW_ACTIONS.get(action)
    if spec is None:
        raise Http404("Action inconnue.")
    evaluation = selectors.evaluation_get_visible(user=request.user, evaluation_id=evaluation_id)  # 404 first
    form = spec.form_class(request.POST, prefix=action)
    result = run_page_action(form, lambda data: spec.run(request.user, evaluation_id, data))
    if result.done:
        evaluation = result.value
        messages.success(
            request, spec.success.format(reference=evaluation.referral.reference, evaluator=evaluation.evaluator)
        )
        return redirect("evaluation-review", evaluation_id=evaluation_id)
    evaluation = services.evaluation_read(user=request.user, evaluation_id=evaluation_id)
    bound = {action: form} if form.errors else None
    return _render_read(request, evaluation, mode="review", bound=bound, errors=result.errors, status=result.status)


@login_required
@require_POST
@service_errors
def evaluation_addendum(request, evaluation_id):
    selectors.evaluation_get_visible(user=request.user, evaluation_id=evaluation_id)  # 404 first
    form = AddendumForm(request.POST, prefix="addendum")
    mode = "review" if request.POST.get("addendum-retour") == "seconde-lecture" else "read"
    status = 400
    if form.is_valid():
        try:
            services.evaluation_add_addendum(
                user=request.user,
                evaluation_id=evaluation_id,
                text=form.cleaned_data["text"],
                eligibility=form.eligibility(),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = exc.status_code
        else:
            messages.success(request, "Addendum ajouté à l'évaluation.")
            page = "evaluation-review" if mode == "review" else "evaluation-edit"
            return redirect(reverse(page, args=[evaluation_id]) + "#addenda")
    evaluation = services.evaluation_read(user=request.user, evaluation_id=evaluation_id)
    return _render_read(request, evaluation, mode=mode, bound={"addendum": form}, status=status)


@login_required
@require_GET
@service_errors
def evaluation_report(request, evaluation_id):
    """The sent report, or a marked draft preview for the CIDFF (inline PDF, journaled by the service)."""
    try:
        return pdf_response(*services.report_open(user=request.user, evaluation_id=evaluation_id))
    except Conflict as exc:
        evaluation = selectors.evaluation_get_visible(user=request.user, evaluation_id=evaluation_id)
        context = {"message": exc.message, "referral_id": evaluation.referral_id}
        return render(request, "referrals/conflict.html", context, status=exc.status_code)
