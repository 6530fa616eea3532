"""The decision PDF and the beneficiary sheet (fiche bénéficiaire), rendered once and stored.

Same discipline as the rapport d'évaluation (cidff.reports): one builder per document gathers
everything the document shows, as Python values the template formats; `decision_data` and
`beneficiary_sheet_data` are the same content as canonical JSON (dates as ISO strings, datetimes
in Europe/Paris), and the SHA-256 of that JSON is printed in the footer of every page. What only
describes the rendering (decision number, generation time) stays out of the hash.

The beneficiary sheet goes to the téléassistance operator and the police: it holds only what they
need to act (who to protect, from whom, how to reach her, the measures in force, the phone, the
danger level retained by the last sent evaluation, the geolocation consent) and nothing else of the
evaluation (no score, computed level, answers, narrative, eligibility, recommendation), nor the
decision's reasoning.
"""

import datetime
import json

from django.db import transaction
from django.utils import timezone

from core.documents import age, as_date, canonical_json, choice_label, data_digest, local, text
from core.files import store_private
from core.pdf import render_pdf
from parquet.models import DecisionDocument, DecisionDocumentKind, DocumentStatus, Outcome
from parquet.selectors import retained_danger_level
from referrals.models import ChildResidence, CustodyStatus, MeasureType, Relationship

TEMPLATES = {
    DecisionDocumentKind.DECISION: "parquet/decision.html",
    DecisionDocumentKind.BENEFICIARY_SHEET: "parquet/beneficiary_sheet.html",
}
RESIDENCE_LABELS = dict(ChildResidence.choices)


# --- small helpers ---------------------------------------------------------------------------------


def _parquet(referral) -> str:
    jurisdiction = referral.cidff.jurisdiction if referral.cidff.jurisdiction_id else None
    return f"Parquet près le {jurisdiction.name}" if jurisdiction else "Parquet"


def _attribution(decision):
    """The period this decision opened (grant after handover, renewal); None before the handover."""
    return getattr(decision, "attribution", None)


def _period(attribution) -> dict | None:
    if attribution is None:
        return None
    return {
        "phone_number": attribution.device.phone_number,
        "start_date": attribution.start_date,
        "end_date": attribution.end_date,
    }


# --- the decision ----------------------------------------------------------------------------------


def _decision(decision) -> dict:
    """Everything the decision shows (the data that is hashed)."""
    referral = decision.referral
    evaluation = decision.evaluation
    report = getattr(evaluation, "report", None)
    victim = referral.victim or {}
    ended_period = None
    if decision.outcome == Outcome.ENDED:
        # The period this decision closes belongs to an earlier decision: the latest one of the dossier.
        ended_period = _period(referral.attributions.select_related("device").order_by("-id").first())
    return {
        "parquet": _parquet(referral),
        "reference": referral.reference,
        "cidff": referral.cidff.name,
        "outcome": {"code": decision.outcome, "label": decision.get_outcome_display()},
        "beneficiary": {
            "last_name": text(victim.get("last_name")),
            "first_name": text(victim.get("first_name")),
            "birth_date": as_date(victim.get("birth_date")),
        },
        "report": {
            "kind": {"code": evaluation.kind, "label": evaluation.get_kind_display()},
            "version": report.version if report is not None else None,
            "sent_at": local(evaluation.sent_at),
        },
        "duration_months": decision.duration_months,
        "reserved_until": decision.reserved_until,
        "period": _period(_attribution(decision)),
        "ended_period": ended_period,
        "reasoning": text(decision.reasoning),
        "signed_by": decision.signed_by,
        "signed_at": local(decision.signed_at),
    }


def decision_data(decision) -> dict:
    """What the decision shows, JSON-ready: dates as ISO strings (datetimes in Europe/Paris)."""
    return json.loads(canonical_json(_decision(decision)))


# --- the beneficiary sheet -------------------------------------------------------------------------


def _measures_in_force(referral, today: datetime.date) -> list[dict]:
    measures = []
    for measure in referral.measures or []:
        if not isinstance(measure, dict):
            continue
        expiry = as_date(measure.get("expiry"))
        if expiry is not None and expiry < today:
            continue
        measures.append(
            {
                "type": choice_label(MeasureType.choices, measure.get("type")) or "Mesure",
                "authority": text(measure.get("authority")),
                "date": as_date(measure.get("date")),
                "no_contact_ban": measure.get("no_contact_ban") is True,
                "expiry": expiry,
            }
        )
    return measures


def _day(value: datetime.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def _conduct(sheet: dict) -> list[dict]:
    """The "Conduite à tenir" box, derived from what the sheet shows (and hashed with it)."""
    victim, author = sheet["victim"], sheet["author"]
    items = []
    if sheet["geolocation_consent"] is True:
        where = "au lieu où se trouve la bénéficiaire (géolocalisation acceptée)"
    elif sheet["geolocation_consent"] is False:
        where = "— géolocalisation non consentie : faire préciser le lieu par la bénéficiaire"
    else:
        where = "au lieu où se trouve la bénéficiaire"
    items.append({"lead": "En cas d'alerte", "text": f"intervention prioritaire des forces de l'ordre {where}."})
    bans = [measure for measure in sheet["measures"] if measure["no_contact_ban"]]
    if bans:
        details = " ; ".join(
            measure["type"] + (f", jusqu'au {_day(measure['expiry'])}" if measure["expiry"] else "") for measure in bans
        )
        items.append(
            {
                "lead": "Interdiction de contact",
                "text": f"l'auteur fait l'objet d'une interdiction de contact ({details}) : "
                "sa présence ou tout contact est une violation à signaler au parquet.",
            }
        )
    custody = author["custody_status"]["code"]
    if custody == CustodyStatus.ON_THE_RUN:
        items.append({"lead": "Auteur en fuite", "text": "danger immédiat, l'auteur peut se présenter à tout moment."})
    elif custody == CustodyStatus.DETAINED:
        release = f" : libération prévue le {_day(author['release_date'])}" if author["release_date"] else ""
        items.append({"lead": "Auteur détenu", "text": f"vigilance accrue à sa sortie{release}."})
    elif custody == CustodyStatus.POLICE_CUSTODY:
        items.append({"lead": "Auteur en garde à vue", "text": "vigilance accrue à l'issue de la mesure."})
    if victim["safe_contact"] or victim["safe_times"]:
        when = f", aux horaires indiqués ({victim['safe_times']})" if victim["safe_times"] else ""
        items.append(
            {"lead": "Pour joindre la bénéficiaire", "text": f"utiliser uniquement le moyen de contact sûr{when}."}
        )
    if victim["interpreter"]:
        language = f" ({victim['language']})" if victim["language"] else ""
        items.append(
            {"lead": "Interprète nécessaire", "text": f"prévoir un interprète pour échanger avec elle{language}."}
        )
    if victim["disability"]:
        items.append({"lead": "Handicap", "text": f"{victim['disability']} : adapter l'intervention."})
    if any(
        child["residence"] in (RESIDENCE_LABELS["victim"], RESIDENCE_LABELS["alternate"]) for child in sheet["children"]
    ):
        items.append(
            {"lead": "Enfants", "text": "enfant(s) résidant chez la bénéficiaire : s'assurer de leur sécurité."}
        )
    return items


def _beneficiary_sheet(decision) -> dict:
    """Only what the operator and the police need to act — nothing of the evaluation (the data that is hashed)."""
    referral = decision.referral
    attribution = _attribution(decision)
    today = timezone.localdate()
    victim, author = referral.victim or {}, referral.author or {}
    victim_birth, author_birth = as_date(victim.get("birth_date")), as_date(author.get("birth_date"))
    children = []
    for child in referral.children or []:
        if isinstance(child, dict):
            birth_date = as_date(child.get("birth_date"))
            children.append(
                {
                    "first_name": text(child.get("first_name")),
                    "birth_date": birth_date,
                    "age": age(birth_date, today),
                    "residence": choice_label(RESIDENCE_LABELS, child.get("residence")),
                }
            )
    sheet = {
        "as_of": today,
        "parquet": _parquet(referral),
        "reference": referral.reference,
        "cidff": referral.cidff.name,
        "decision_date": as_date(decision.signed_at),
        "period": _period(attribution),
        "geolocation_consent": attribution.geolocation_consent if attribution is not None else None,
        "danger_level": retained_danger_level(referral=referral),
        "victim": {
            "last_name": text(victim.get("last_name")),
            "first_name": text(victim.get("first_name")),
            "birth_date": victim_birth,
            "age": age(victim_birth, today),
            "address": text(victim.get("address")),
            "phone": text(victim.get("phone")),
            "safe_contact": text(victim.get("safe_contact")),
            "safe_times": text(victim.get("safe_times")),
            "language": text(victim.get("language")),
            "interpreter": victim.get("interpreter") is True,
            "disability": text(victim.get("disability")),
        },
        "author": {
            "last_name": text(author.get("last_name")),
            "first_name": text(author.get("first_name")),
            "birth_date": author_birth,
            "age": age(author_birth, today),
            "description": text(author.get("description")),
            "relationship": choice_label(Relationship.choices, referral.author_relationship),
            "custody_status": {
                "code": referral.author_custody_status,
                "label": choice_label(CustodyStatus.choices, referral.author_custody_status),
            },
            "release_date": referral.author_release_date,
        },
        "measures": _measures_in_force(referral, today),
        "children": children,
    }
    sheet["conduct"] = _conduct(sheet)
    return sheet


def beneficiary_sheet_data(decision) -> dict:
    """What the sheet shows, JSON-ready — only what the operator and the police need to act."""
    return json.loads(canonical_json(_beneficiary_sheet(decision)))


# --- rendering -------------------------------------------------------------------------------------


def render_decision_pdf(document: DecisionDocument) -> tuple[bytes, str]:
    """(PDF bytes, SHA-256 of the document's data)."""
    decision = document.decision
    data = (
        _beneficiary_sheet(decision) if document.kind == DecisionDocumentKind.BENEFICIARY_SHEET else _decision(decision)
    )
    digest = data_digest(data)
    context = {
        "decision": decision,
        "referral": decision.referral,
        "data": data,
        "data_sha256": digest,
        "generated_at": timezone.localtime(),
    }
    return render_pdf(TEMPLATES[document.kind], context), digest


def decision_document_render(*, document_id: int) -> DecisionDocument:
    """Render and store once; running it again changes nothing (idempotent)."""
    with transaction.atomic():
        document = (
            DecisionDocument.objects.select_for_update(of=("self",))
            .select_related("decision", "decision__referral", "decision__referral__cidff", "decision__evaluation")
            .get(pk=document_id)
        )
        if document.status == DocumentStatus.READY:
            return document
        pdf, digest = render_decision_pdf(document)
        document.storage_name, document.sha256 = store_private(pdf, folder="decisions", key=f"document-{document.pk}")
        document.data_sha256 = digest
        document.status = DocumentStatus.READY
        document.rendered_at = timezone.now()
        document.save()
    return document
