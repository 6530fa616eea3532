"""Every state change of an evaluation, from the first answer to the report sent to the parquet.

Same discipline as the dossier: visible (else 404) under a row lock, allowed (else 403), in the
right state (else 409), valid (else 400 with French messages), then write, journal, grant and
enqueue after commit.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from cidff import reports
from cidff.eligibility import eligibility_prefill
from cidff.instruments import ANSWERS, definition_items, definition_sha256, level_rank, parse_definition
from cidff.models import (
    EVALUATION_STEPS,
    OPEN_EVALUATION_STATUSES,
    Evaluation,
    EvaluationAddendum,
    EvaluationKind,
    EvaluationReport,
    EvaluationStatus,
    Instrument,
    Recommendation,
    ReportStatus,
)
from cidff.policies import evaluation_policy
from cidff.selectors import (
    evaluation_get_visible,
    evaluation_list_visible,
    evaluation_score,
    evaluation_send_refusals,
    evaluations_sent_latest_first,
)
from core.exceptions import Conflict, NotFound
from core.files import store_private
from core.jobs import enqueue_on_commit
from referrals import hooks
from referrals.policies import referral_policy
from referrals.services import referral_lock, referral_move, stored_document_open
from referrals.workflow import Audience, NotificationKind, Status

# The dossier state an evaluation of each kind starts from.
KIND_REFERRAL_STATUS = {
    EvaluationKind.INITIAL: Status.EVALUATION,
    EvaluationKind.COMPLEMENT: Status.INFO_REQUESTED,
    EvaluationKind.RENEWAL: Status.REEVALUATION,
}
ELIGIBILITY_KEYS = {
    "victim_category",
    "cohabiting",
    "consent",
    "legal_basis",
    "ban_framework",
    "ban_authority",
    "ban_date",
    "ban_expiry",
    "exception_ground",
    "justification",
}


# --- instruments ----------------------------------------------------------------------------------


def instrument_conflict(definition: dict) -> str | None:
    """Why this definition cannot be loaded (same code and version, other content), if so."""
    existing = Instrument.objects.filter(code=definition["code"], version=definition["version"]).first()
    if existing is not None and existing.sha256 != definition_sha256(definition):
        return (
            f"La version {definition['version']} de « {definition['code']} » existe déjà avec un autre contenu : "
            "une version chargée ne se modifie pas, chargez une nouvelle version."
        )
    return None


def instrument_activate(*, actor: User | None, instrument: Instrument) -> Instrument:
    """Make this version the one new evaluations use; older evaluations keep theirs."""
    with transaction.atomic():
        Instrument.objects.select_for_update().filter(code=instrument.code, is_active=True).exclude(
            pk=instrument.pk
        ).update(is_active=False)
        if not instrument.is_active:
            instrument.is_active = True
            instrument.save(update_fields=["is_active"])
            audit_record(actor=actor, action="instrument.activate", obj=instrument)
    return instrument


def instrument_load(*, text: str, actor: User | None = None, activate: bool = True) -> Instrument:
    """Load a definition (YAML or JSON). The same version twice is a no-op; a changed one is refused."""
    definition = parse_definition(text)
    with transaction.atomic():
        conflict = instrument_conflict(definition)
        if conflict:
            raise ValidationError({"definition": [conflict]})
        instrument, created = Instrument.objects.get_or_create(
            code=definition["code"],
            version=definition["version"],
            defaults={
                "title": definition["title"],
                "definition": definition,
                "sha256": definition_sha256(definition),
                "loaded_by": actor,
            },
        )
        if created:
            audit_record(actor=actor, action="instrument.load", obj=instrument)
        if activate:
            instrument_activate(actor=actor, instrument=instrument)
    return instrument


# --- helpers ----------------------------------------------------------------------------------------


def _lock(*, user, evaluation_id) -> Evaluation:
    try:
        return evaluation_list_visible(user=user).select_for_update(of=("self",)).get(pk=evaluation_id)
    except (Evaluation.DoesNotExist, ValueError, TypeError):
        raise NotFound("Évaluation introuvable.") from None


def _require_state(evaluation, allowed, message: str) -> None:
    if evaluation.status not in allowed:
        raise Conflict(message)


def _require_step(evaluation, step: str, message: str) -> None:
    """The evaluation's own table (cidff.models.EVALUATION_STEPS) allows this step from its state, or 409."""
    _require_state(evaluation, EVALUATION_STEPS[step].sources, message)


def _clean_eligibility(values: dict) -> dict:
    unknown = set(values) - ELIGIBILITY_KEYS
    if unknown:
        raise ValidationError({"eligibility": [f"Champ inconnu : {key}." for key in sorted(unknown)]})
    return dict(values)


def _eligibility_start(referral, kind: str) -> dict:
    """The eligibility an evaluation starts with: the last report's for a renewal or a complement (consent asked
    again), else what the referrer typed (cohabitation, partner, judicial measure with a no-contact ban)."""
    if kind != EvaluationKind.INITIAL:
        previous = evaluations_sent_latest_first(referral.evaluations.all()).first()
        if previous is not None and previous.eligibility:
            return {key: value for key, value in previous.eligibility.items() if key in ELIGIBILITY_KEYS - {"consent"}}
    return eligibility_prefill(
        relationship=referral.author_relationship,
        cohabiting=referral.cohabiting,
        measures=referral.measures,
        today=timezone.localdate(),
    )


def _validate_answers(definition: dict, answers: dict) -> dict:
    items = definition_items(definition)
    errors, clean = [], {}
    for code, value in answers.items():
        if code not in items:
            errors.append(f"Élément inconnu de la grille : {code}.")
            continue
        if isinstance(value, str):
            value = {"answer": value}
        if not isinstance(value, dict) or value.get("answer") not in ANSWERS:
            errors.append(f"{code} : la réponse doit être oui (yes), non (no) ou ne sait pas (unknown).")
            continue
        comment = value.get("comment") or ""
        if not isinstance(comment, str) or len(comment) > 2000:
            errors.append(f"{code} : le commentaire doit être un texte de 2000 caractères au plus.")
            continue
        clean[code] = {"answer": value["answer"], "comment": comment.strip()}
    if errors:
        raise ValidationError({"answers": errors})
    return clean


def _validate_judgement(evaluation, judgement: str) -> None:
    """The evaluator may raise the computed level, never lower it."""
    if not judgement:
        return
    definition = evaluation.instrument.definition
    try:
        rank = level_rank(definition, judgement)
    except ValueError:
        raise ValidationError({"judgement": ["Niveau inconnu pour cette grille."]}) from None
    computed = evaluation_score(evaluation=evaluation).level
    if rank > level_rank(definition, computed):
        raise ValidationError(
            {"judgement": ["Le jugement professionnel peut relever le niveau calculé, jamais l'abaisser."]}
        )


# --- the evaluation ----------------------------------------------------------------------------------


def evaluation_create(*, user: User, referral_id, kind: str = EvaluationKind.INITIAL) -> Evaluation:
    if kind not in EvaluationKind.values:
        raise ValidationError({"kind": ["Type d'évaluation inconnu."]})
    with transaction.atomic():
        referral = referral_lock(user=user, referral_id=referral_id)
        referral_policy.require(
            user, "evaluate", referral, "Seule l'évaluatrice à qui le dossier est attribué peut l'évaluer."
        )
        if referral.status != KIND_REFERRAL_STATUS[kind]:
            raise Conflict(
                f"Une évaluation « {EvaluationKind(kind).label} » ne peut pas commencer : "
                f"le dossier est « {referral.get_status_display()} »."
            )
        if referral.evaluations.filter(status__in=OPEN_EVALUATION_STATUSES).exists():
            raise Conflict("Une évaluation est déjà en cours pour ce dossier.")
        if (
            kind == EvaluationKind.RENEWAL
            and referral.evaluations.filter(
                kind=EvaluationKind.RENEWAL, status=EvaluationStatus.SENT, decision__isnull=True
            ).exists()
        ):
            raise Conflict("Un rapport de réévaluation attend déjà la décision du parquet.")
        instrument = Instrument.objects.filter(code=settings.VIGIE_DEFAULT_INSTRUMENT, is_active=True).first()
        if instrument is None:
            raise Conflict("Aucune grille d'évaluation active : contactez le comité de pilotage.")
        evaluation = Evaluation.objects.create(
            referral=referral,
            kind=kind,
            instrument=instrument,
            evaluator=user,
            eligibility=_eligibility_start(referral, kind),
        )
        audit_record(actor=user, action="evaluation.create", obj=evaluation)
    return evaluation


def evaluation_update(*, user: User, evaluation_id, data: dict) -> Evaluation:
    """Save what the evaluator has filled so far (answers merge item by item)."""
    with transaction.atomic():
        evaluation = _lock(user=user, evaluation_id=evaluation_id)
        evaluation_policy.require(user, "fill", evaluation, "Seule l'évaluatrice du dossier remplit la grille.")
        _require_step(
            evaluation,
            "update",
            "L'évaluation est finalisée : ses réponses ne se modifient plus (ajoutez un addendum).",
        )
        if "answers" in data:
            evaluation.answers = {
                **evaluation.answers,
                **_validate_answers(evaluation.instrument.definition, data["answers"]),
            }
        if "eligibility" in data:
            evaluation.eligibility = {**evaluation.eligibility, **_clean_eligibility(data["eligibility"])}
        for field in ("interview", "narrative", "judgement_reason"):
            if field in data:
                setattr(evaluation, field, data[field])
        if "recommendation" in data:
            if not set(data["recommendation"]) <= set(Recommendation.values):
                raise ValidationError({"recommendation": ["Préconisation inconnue."]})
            evaluation.recommendation = list(dict.fromkeys(data["recommendation"]))
        if "judgement" in data:
            evaluation.judgement = data["judgement"] or ""
            _validate_judgement(evaluation, evaluation.judgement)
        evaluation.save()
        audit_record(actor=user, action="evaluation.update", obj=evaluation)
    return evaluation


def evaluation_missing(evaluation: Evaluation) -> dict[str, list[str]]:
    """What must be filled before finalization."""
    errors = {}
    items = definition_items(evaluation.instrument.definition)
    unanswered = [code for code in items if code not in evaluation.answers]
    if unanswered:
        errors["answers"] = [f"{len(unanswered)} élément(s) sans réponse : {', '.join(unanswered)}."]
    if not evaluation.narrative.strip():
        errors["narrative"] = ["Rédigez la synthèse de l'évaluation."]
    if not evaluation.recommendation:
        errors["recommendation"] = ["Choisissez au moins une préconisation."]
    score = evaluation_score(evaluation=evaluation)
    if evaluation.judgement and evaluation.judgement != score.level and not evaluation.judgement_reason.strip():
        errors["judgement_reason"] = ["Expliquez pourquoi vous relevez le niveau calculé."]
    return errors


def evaluation_finalize(*, user: User, evaluation_id) -> Evaluation:
    with transaction.atomic():
        evaluation = _lock(user=user, evaluation_id=evaluation_id)
        evaluation_policy.require(user, "fill", evaluation, "Seule l'évaluatrice du dossier finalise son évaluation.")
        _require_step(evaluation, "finalize", "Cette évaluation est déjà finalisée.")
        definition = evaluation.instrument.definition
        computed = evaluation_score(evaluation=evaluation).level
        if evaluation.judgement and level_rank(definition, evaluation.judgement) >= level_rank(definition, computed):
            # the answers caught up with the judgement: it no longer raises anything
            evaluation.judgement, evaluation.judgement_reason = "", ""
        missing = evaluation_missing(evaluation)
        if missing:
            raise ValidationError(missing)
        score = evaluation_score(evaluation=evaluation)
        evaluation.status = EvaluationStatus.FINALIZED
        evaluation.finalized_at = timezone.now()
        evaluation.score_weighted, evaluation.score_red, evaluation.score_unknown = (
            score.weighted,
            score.red,
            score.unknown,
        )
        evaluation.computed_level = score.level
        evaluation.final_level = evaluation.judgement or score.level
        evaluation.incomplete = score.incomplete
        evaluation.returned_comment, evaluation.returned_at = "", None
        evaluation.save()
        audit_record(actor=user, action="evaluation.finalize", obj=evaluation)
        hooks.tell(
            referral=evaluation.referral, kind=NotificationKind.EVALUATION_FINALIZED, audiences=[Audience.COORDINATORS]
        )
    return evaluation


def evaluation_return(*, user: User, evaluation_id, comment: str) -> Evaluation:
    """The second reader sends the evaluation back to its author, with the reason (journaled)."""
    with transaction.atomic():
        evaluation = _lock(user=user, evaluation_id=evaluation_id)
        evaluation_policy.require(
            user, "second_read", evaluation, "Seule la coordination du CIDFF assure la seconde lecture."
        )
        _require_step(
            evaluation, "return", "Seule une évaluation finalisée ou validée, pas encore transmise, peut être renvoyée."
        )
        comment = (comment or "").strip()
        if not comment:
            raise ValidationError({"comment": ["Expliquez ce qui doit être repris."]})
        previous = evaluation.status
        evaluation.status = EvaluationStatus.DRAFT
        evaluation.validated_by, evaluation.validated_at = None, None
        evaluation.returned_comment, evaluation.returned_at = comment, timezone.now()
        evaluation.finalized_at = None
        evaluation.score_weighted = evaluation.score_red = evaluation.score_unknown = None
        evaluation.computed_level = evaluation.final_level = ""
        evaluation.incomplete = False
        evaluation.save()
        audit_record(actor=user, action="evaluation.return", obj=evaluation, detail=f"depuis : {previous}")
        hooks.tell(
            referral=evaluation.referral, kind=NotificationKind.EVALUATION_RETURNED, users=[evaluation.evaluator]
        )
    return evaluation


def evaluation_validate(*, user: User, evaluation_id) -> Evaluation:
    with transaction.atomic():
        evaluation = _lock(user=user, evaluation_id=evaluation_id)
        evaluation_policy.require(
            user,
            "validate",
            evaluation,
            "La seconde lecture revient à la coordination du CIDFF, pas à l'autrice de l'évaluation.",
        )
        _require_step(evaluation, "validate", "Seule une évaluation finalisée peut être validée.")
        # What would refuse the sending refuses the validation, with the same messages: a validated evaluation
        # can always be sent (or returned to its evaluator if the situation changes meanwhile).
        refusals = evaluation_send_refusals(evaluation=evaluation)
        if refusals:
            raise ValidationError(refusals)
        evaluation.status = EvaluationStatus.VALIDATED
        evaluation.validated_by = user
        evaluation.validated_at = timezone.now()
        evaluation.save()
        audit_record(actor=user, action="evaluation.validate", obj=evaluation)
    return evaluation


def evaluation_add_addendum(
    *, user: User, evaluation_id, text: str, eligibility: dict | None = None
) -> EvaluationAddendum:
    """A correction or precision after finalization; it may correct eligibility (`eligibility`: {key: value}).

    The corrections are kept on the addendum (what changed, by whom) and applied to the evaluation. A validated
    evaluation whose eligibility the evaluator corrects goes back to the second reading (finalized); the second
    reader's own correction keeps her validation, provided the sending is no longer refused.
    """
    with transaction.atomic():
        evaluation = _lock(user=user, evaluation_id=evaluation_id)
        evaluation_policy.require(
            user, "amend", evaluation, "Seuls l'évaluatrice et la coordination du CIDFF complètent une évaluation."
        )
        _require_step(
            evaluation, "addendum", "Un addendum s'ajoute à une évaluation finalisée et pas encore transmise."
        )
        text = (text or "").strip()
        if not text or len(text) > 5000:
            raise ValidationError({"text": ["Rédigez l'addendum (5000 caractères au plus)."]})
        corrections = {
            key: value
            for key, value in _clean_eligibility(eligibility or {}).items()
            if evaluation.eligibility.get(key) != value
        }
        if corrections:
            evaluation.eligibility = {**evaluation.eligibility, **corrections}
            if evaluation.status == EvaluationStatus.VALIDATED:
                if not evaluation_policy.may_validate(user, evaluation):
                    evaluation.status = EvaluationStatus.FINALIZED
                    evaluation.validated_by, evaluation.validated_at = None, None
                    hooks.tell(
                        referral=evaluation.referral,
                        kind=NotificationKind.EVALUATION_FINALIZED,
                        audiences=[Audience.COORDINATORS],
                    )
                elif refusals := evaluation_send_refusals(evaluation=evaluation):
                    raise ValidationError(refusals)
            evaluation.save()
        addendum = EvaluationAddendum.objects.create(
            evaluation=evaluation, author=user, text=text, eligibility=corrections
        )
        detail = f"éligibilité corrigée : {', '.join(sorted(corrections))}" if corrections else ""
        audit_record(actor=user, action="evaluation.addendum", obj=evaluation, detail=detail)
    return addendum


def evaluation_send(*, user: User, evaluation_id) -> Evaluation:
    """Eligibility again, a new report version, the dossier to `report_sent`, the parquet granted."""
    with transaction.atomic():
        evaluation = _lock(user=user, evaluation_id=evaluation_id)
        evaluation_policy.require(
            user, "second_read", evaluation, "Seule la coordination du CIDFF transmet le rapport au parquet."
        )
        _require_step(evaluation, "send", "Seule une évaluation validée peut être transmise.")
        referral = referral_lock(user=user, referral_id=evaluation.referral_id)
        evaluation.referral = referral
        refusals = evaluation_send_refusals(evaluation=evaluation)
        if refusals:
            # e.g. a contact ban that ended since the validation: the coordination returns it to the evaluator
            # or corrects the eligibility by an addendum
            raise ValidationError(refusals)
        report = EvaluationReport.objects.create(
            referral=referral, evaluation=evaluation, version=referral.reports.count() + 1
        )
        evaluation.status = EvaluationStatus.SENT
        evaluation.sent_at = timezone.now()
        evaluation.save()
        # A renewal report leaves the dossier in re-evaluation: the prosecutor renews or ends from there.
        referral_move(referral=referral, actor=user, action="report_sent")
        audit_record(actor=user, action="evaluation.send", obj=evaluation)
        enqueue_on_commit("cidff.tasks.render_report", report.pk)
    return evaluation


# --- the report -----------------------------------------------------------------------------------


def report_render(*, report_id: int) -> EvaluationReport:
    """Render and store a report version once; running it again changes nothing (idempotent)."""
    with transaction.atomic():
        report = EvaluationReport.objects.select_for_update().select_related("evaluation", "referral").get(pk=report_id)
        if report.status == ReportStatus.READY:
            return report
        pdf, data_digest = reports.render_report_pdf(report.evaluation, version=report.version)
        report.storage_name, report.sha256 = store_private(pdf, folder="reports", key=f"report-{report.pk}")
        report.data_sha256 = data_digest
        report.status = ReportStatus.READY
        report.rendered_at = timezone.now()
        report.save()
    return report


def report_open(*, user: User, evaluation_id) -> tuple[str, bytes]:
    """The transmitted PDF, or a marked draft preview for the CIDFF before sending; journaled."""
    evaluation = evaluation_get_visible(user=user, evaluation_id=evaluation_id)
    reference = evaluation.referral.reference
    if evaluation.status == EvaluationStatus.SENT:
        report = evaluation.report
        data = stored_document_open(
            user=user, document=report, busy="Le rapport est en cours de génération : réessayez dans un instant."
        )
        return f"{reference}-rapport-v{report.version}.pdf", data
    pdf, _ = reports.render_report_pdf(evaluation, version=None)
    audit_record(actor=user, action="report.preview", obj=evaluation)
    return f"{reference}-rapport-projet.pdf", pdf


def evaluation_read(*, user: User, evaluation_id) -> Evaluation:
    """An evaluation opened by someone allowed to see it; the opening is journaled."""
    evaluation = evaluation_get_visible(user=user, evaluation_id=evaluation_id)
    audit_record(actor=user, action="evaluation.view", obj=evaluation)
    return evaluation
