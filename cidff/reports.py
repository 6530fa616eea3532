"""The rapport d'évaluation du danger (PDF) that the CIDFF transmits to the procureur.

One builder (`_report`) gathers everything the report shows, as Python values the template
formats (dates, datetimes). `report_data` is the same content as canonical JSON (dates as ISO
strings, Europe/Paris for datetimes); its SHA-256 is printed in the footer of every page, so a
reader can check that two renderings show the same data. What only describes the rendering
(version, generation time) stays out of the hash.

Finalized evaluations are shown with their frozen figures (score, levels, completeness); drafts
with the figures computed now. Rendering goes through core.pdf (offline: no URL is ever fetched).
"""

import datetime
import json

from django.utils import timezone

from cidff.eligibility import BAN_FRAMEWORKS, ExceptionGround, LegalBasis, VictimCategory, eligibility_findings
from cidff.instruments import ANSWER_LABELS, definition_items
from cidff.models import EvaluationStatus, Recommendation
from cidff.selectors import evaluation_score
from core.documents import age, as_date, canonical_json, choice_label, data_digest, text
from core.pdf import render_pdf
from referrals.models import ChildResidence, MeasureType

TEMPLATE = "cidff/report.html"
STATUS_OK, STATUS_BLOCKING, STATUS_WARNING, STATUS_NONE = "ok", "blocking", "warning", "none"
RESIDENCE_LABELS = dict(ChildResidence.choices)

# --- small helpers ---------------------------------------------------------------------------------


def _person(user) -> str:
    return str(user) if user is not None else ""


def _yes_no(value, *, yes: str = "Oui", no: str = "Non", unknown: str = "Non précisé") -> str:
    return yes if value is True else no if value is False else unknown


# --- sections of the report ------------------------------------------------------------------------


def _level(evaluation, definition: dict) -> dict:
    """Computed and retained levels with the figures: frozen once finalized, computed on a draft."""
    labels = {level["code"]: level["label"] for level in definition["levels"]}
    ranks = {level["code"]: rank for rank, level in enumerate(definition["levels"])}
    score = evaluation_score(evaluation=evaluation)
    finalized = evaluation.status != EvaluationStatus.DRAFT and bool(evaluation.computed_level)
    if finalized:
        weighted, red, unknown = evaluation.score_weighted, evaluation.score_red, evaluation.score_unknown
        computed, incomplete = evaluation.computed_level, evaluation.incomplete
        retained = evaluation.final_level or computed
    else:
        weighted, red, unknown = score.weighted, score.red, score.unknown
        computed, incomplete = score.level, score.incomplete
        retained = evaluation.judgement or computed
    if isinstance(weighted, float) and weighted.is_integer():
        weighted = int(weighted)
    raised = retained != computed
    return {
        "frozen": finalized,
        "computed": {"code": computed, "label": labels.get(computed, computed)},
        "retained": {"code": retained, "label": labels.get(retained, retained)},
        "retained_rank": ranks.get(retained, len(ranks)),
        "highest": ranks.get(retained) == 0,
        "raised": raised,
        "judgement_reason": text(evaluation.judgement_reason) if raised else "",
        "score_weighted": weighted,
        "red": red,
        "unknown": unknown,
        "answered": score.answered,
        "total": score.total,
        "incomplete": bool(incomplete),
        "incomplete_threshold": definition.get("incomplete_when_unknown_over"),
    }


def _grid(evaluation, definition: dict) -> tuple[list[dict], list[dict], bool]:
    """Sections of answered items, the red items answered yes, and whether weights differ from 1."""
    answers = evaluation.answers or {}
    sections, red_yes = [], []
    weighted = any(item.get("weight", 1) != 1 for item in definition_items(definition).values())
    for section in definition["sections"]:
        rows = []
        for item in section["items"]:
            raw = answers.get(item["code"])
            answer = raw.get("answer") if isinstance(raw, dict) else raw
            comment = text(raw.get("comment")) if isinstance(raw, dict) else ""
            row = {
                "code": item["code"],
                "text": item["text"],
                "red": bool(item.get("red")),
                "weight": item.get("weight", 1),
                "answer": answer if answer in ANSWER_LABELS else "",
                "answer_label": ANSWER_LABELS.get(answer, "Sans réponse"),
                "comment": comment,
            }
            rows.append(row)
            if row["red"] and row["answer"] == "yes":
                red_yes.append({"code": item["code"], "text": item["text"], "section": section["title"]})
        sections.append({"code": section["code"], "title": section["title"], "items": rows})
    return sections, red_yes, weighted


def _eligibility(evaluation) -> dict:
    """One row per criterion of art. 41-3-1 CPP, each with its value, status and messages."""
    values = evaluation.eligibility or {}
    referral = evaluation.referral
    findings = eligibility_findings(values, relationship=referral.author_relationship, today=timezone.localdate())
    messages: dict[str, list[dict]] = {}
    for finding in findings:
        status = STATUS_BLOCKING if finding.blocking else STATUS_WARNING
        messages.setdefault(finding.criterion, []).append({"status": status, "text": finding.message})

    rows = []

    def row(key, label, value="", *, date=None, checked=True, sub=False):
        found = messages.pop(key, [])
        statuses = {message["status"] for message in found}
        status = (
            STATUS_BLOCKING
            if STATUS_BLOCKING in statuses
            else STATUS_WARNING
            if STATUS_WARNING in statuses
            else STATUS_OK
            if checked
            else STATUS_NONE
        )
        rows.append(
            {"key": key, "label": label, "value": value, "date": date, "status": status, "sub": sub, "messages": found}
        )

    category = values.get("victim_category")
    row("victim_category", "Catégorie de victime", choice_label(VictimCategory.choices, category, "Non précisée"))
    row(
        "relationship",
        "Lien entre l'auteur et la victime",
        referral.get_author_relationship_display() or "Non précisé",
    )
    row(
        "cohabiting",
        "Absence de cohabitation avec l'auteur",
        _yes_no(
            values.get("cohabiting"),
            yes="Cohabitation avec l'auteur",
            no="Pas de cohabitation",
            unknown="Non précisé",
        ),
    )
    row(
        "consent",
        "Consentement exprès de la victime",
        _yes_no(values.get("consent"), yes="Recueilli", no="Refusé", unknown="Non recueilli"),
    )
    basis = values.get("legal_basis")
    row("legal_basis", "Fondement", choice_label(LegalBasis.choices, basis, "Non précisé"))
    if basis == LegalBasis.CONTACT_BAN:
        row(
            "ban_framework",
            "Cadre de l'interdiction",
            choice_label(BAN_FRAMEWORKS, values.get("ban_framework"), "—"),
            sub=True,
        )
        row("ban_authority", "Autorité", text(values.get("ban_authority")) or "—", checked=False, sub=True)
        ban_date = as_date(values.get("ban_date"))
        row("ban_date", "Date de l'interdiction", "—", date=ban_date, sub=True)
        ban_expiry = as_date(values.get("ban_expiry"))
        row("ban_expiry", "Échéance de l'interdiction", "Non précisée", date=ban_expiry, sub=True)
    elif basis == LegalBasis.IMMINENT_DANGER:
        row(
            "exception_ground",
            "Motif de l'exception",
            choice_label(ExceptionGround.choices, values.get("exception_ground"), "—"),
            sub=True,
        )
        row(
            "justification",
            "Justification du danger avéré et imminent",
            text(values.get("justification")) or "—",
            sub=True,
        )
    blocks = [f.message for f in findings if f.blocking]
    warnings = [f.message for f in findings if not f.blocking]
    return {"rows": rows, "blocks": blocks, "warnings": warnings, "eligible": not blocks}


def _victim(referral, today: datetime.date) -> dict:
    victim = referral.victim or {}
    birth_date = as_date(victim.get("birth_date"))
    return {
        "last_name": text(victim.get("last_name")),
        "first_name": text(victim.get("first_name")),
        "birth_date": birth_date,
        "age": age(birth_date, today),
        "address": text(victim.get("address")),
        "phone": text(victim.get("phone")),
        "safe_contact": text(victim.get("safe_contact")),
        "safe_times": text(victim.get("safe_times")),
        "language": text(victim.get("language")),
        "interpreter": victim.get("interpreter") is True,
        "disability": text(victim.get("disability")),
    }


def _author(referral, today: datetime.date) -> dict:
    author = referral.author or {}
    birth_date = as_date(author.get("birth_date"))
    return {
        "last_name": text(author.get("last_name")),
        "first_name": text(author.get("first_name")),
        "birth_date": birth_date,
        "age": age(birth_date, today),
        "description": text(author.get("description")),
        "relationship": referral.get_author_relationship_display() if referral.author_relationship else "",
        "custody_status": referral.get_author_custody_status_display() if referral.author_custody_status else "",
        "release_date": referral.author_release_date,
    }


def _children(referral, today: datetime.date) -> list[dict]:
    children = []
    for child in referral.children or []:
        if not isinstance(child, dict):
            continue
        birth_date = as_date(child.get("birth_date"))
        children.append(
            {
                "first_name": text(child.get("first_name")),
                "birth_date": birth_date,
                "age": age(birth_date, today),
                "common_child": child.get("common_child"),
                "residence": choice_label(RESIDENCE_LABELS, child.get("residence")),
            }
        )
    return children


def _measures(referral) -> list[dict]:
    return [
        {
            "type": choice_label(MeasureType.choices, measure.get("type"), "Mesure"),
            "authority": text(measure.get("authority")),
            "date": as_date(measure.get("date")),
            "no_contact_ban": measure.get("no_contact_ban") is True,
            "expiry": as_date(measure.get("expiry")),
        }
        for measure in referral.measures or []
        if isinstance(measure, dict)
    ]


def _complaints(referral) -> list[dict]:
    return [
        {"date": as_date(complaint.get("date")), "service": text(complaint.get("service"))}
        for complaint in referral.complaints or []
        if isinstance(complaint, dict)
    ]


def _report(evaluation) -> dict:
    """Everything the report shows, as template-ready Python values (the data that is hashed)."""
    referral = evaluation.referral
    instrument = evaluation.instrument
    definition = instrument.definition
    # Ages are given at the date the evaluation was finalized (today for a draft).
    as_of = as_date(evaluation.finalized_at) or timezone.localdate()
    interview = evaluation.interview if isinstance(evaluation.interview, dict) else {}
    sections, red_yes, weighted = _grid(evaluation, definition)
    recommendations = dict(Recommendation.choices)
    return {
        "reference": referral.reference,
        "kind": {"code": evaluation.kind, "label": evaluation.get_kind_display()},
        "cidff": referral.cidff.name,
        "jurisdiction": referral.cidff.jurisdiction.name if referral.cidff.jurisdiction_id else "",
        "referrer": {
            "name": _person(referral.referrer),
            "service": referral.referrer_organisation.name,
            "function": referral.get_referrer_function_display(),
        },
        "urgency": {"code": referral.urgency, "label": referral.get_urgency_display()},
        "submitted_at": referral.submitted_at,
        "acknowledged_at": referral.acknowledged_at,
        "interview": {
            "dates": [day for day in (as_date(value) for value in interview.get("dates") or []) if day],
            "place": text(interview.get("place")),
        },
        "as_of": as_of,
        "level": _level(evaluation, definition),
        "red_yes": red_yes,
        "victim": _victim(referral, as_of),
        "author": _author(referral, as_of),
        "children": _children(referral, as_of),
        "cohabiting": referral.cohabiting,
        "separation_date": referral.separation_date,
        "facts": text(referral.facts),
        "measures": _measures(referral),
        "complaints": _complaints(referral),
        "eligibility": _eligibility(evaluation),
        "grid": {"sections": sections, "show_weights": weighted},
        "narrative": text(evaluation.narrative),
        "recommendations": [recommendations.get(code, code) for code in evaluation.recommendation or []],
        "addenda": [
            {"author": _person(addendum.author), "created_at": addendum.created_at, "text": text(addendum.text)}
            for addendum in evaluation.addenda.select_related("author").order_by("id")
        ],
        "signatures": {
            "evaluator": _person(evaluation.evaluator),
            "finalized_at": evaluation.finalized_at,
            "validated_by": _person(evaluation.validated_by),
            "validated_at": evaluation.validated_at,
            "sent_at": evaluation.sent_at,
        },
        "instrument": {
            "code": instrument.code,
            "title": instrument.title,
            "version": instrument.version,
            "sha256": instrument.sha256,
            "levels": [
                {"label": level["label"], "min_red": level.get("min_red"), "min_score": level.get("min_score")}
                for level in definition["levels"]
            ],
        },
    }


# --- public API ------------------------------------------------------------------------------------


def report_data(evaluation) -> dict:
    """Everything the report shows, JSON-ready: dates as ISO strings (datetimes in Europe/Paris)."""
    return json.loads(canonical_json(_report(evaluation)))


def render_report_pdf(evaluation, *, version: int | None) -> tuple[bytes, str]:
    """(PDF bytes, SHA-256 of the report's data). version=None renders a marked draft preview."""
    report = _report(evaluation)
    digest = data_digest(report)
    context = {
        "report": report,
        "version": version,
        "draft": version is None,
        "generated_at": timezone.localtime(),
        "data_sha256": digest,
    }
    return render_pdf(TEMPLATE, context), digest
