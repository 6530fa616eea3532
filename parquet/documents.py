"""The decision PDF and the beneficiary sheet (fiche bénéficiaire), rendered once and stored."""

import hashlib
import json

from django.db import transaction
from django.utils import timezone

from core.files import store_private
from core.pdf import render_pdf
from parquet.models import DecisionDocument, DecisionDocumentKind, DocumentStatus

TEMPLATES = {
    DecisionDocumentKind.DECISION: "parquet/decision.html",
    DecisionDocumentKind.BENEFICIARY_SHEET: "parquet/beneficiary_sheet.html",
}


def decision_data(decision) -> dict:
    referral = decision.referral
    return {
        "reference": referral.reference,
        "outcome": decision.outcome,
        "reasoning": decision.reasoning,
        "duration_months": decision.duration_months,
        "reserved_until": decision.reserved_until.isoformat() if decision.reserved_until else None,
        "signed_by": decision.signed_by,
        "signed_at": decision.signed_at.isoformat(),
    }


def beneficiary_sheet_data(decision) -> dict:
    """Only what the operator and the police need to act — nothing of the evaluation."""
    referral = decision.referral
    attribution = getattr(decision, "attribution", None)
    return {
        "reference": referral.reference,
        "victim": referral.victim,
        "author": referral.author,
        "author_relationship": referral.author_relationship,
        "author_custody_status": referral.author_custody_status,
        "children": referral.children,
        "measures": referral.measures,
        "device": attribution.device.phone_number if attribution else None,
        "period": [attribution.start_date.isoformat(), attribution.end_date.isoformat()] if attribution else None,
    }


def render_decision_pdf(document: DecisionDocument) -> tuple[bytes, str]:
    decision = document.decision
    data = (
        decision_data(decision) if document.kind == DecisionDocumentKind.DECISION else beneficiary_sheet_data(decision)
    )
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
    context = {"decision": decision, "referral": decision.referral, "data": data, "data_sha256": digest}
    return render_pdf(TEMPLATES[document.kind], context), digest


def decision_document_render(*, document_id: int) -> DecisionDocument:
    """Render and store once; running it again changes nothing (idempotent)."""
    with transaction.atomic():
        document = (
            DecisionDocument.objects.select_for_update()
            .select_related("decision", "decision__referral")
            .get(pk=document_id)
        )
        if document.status == DocumentStatus.READY:
            return document
        pdf, digest = render_decision_pdf(document)
        document.storage_name, document.sha256 = store_private(pdf, folder="decisions")
        document.data_sha256 = digest
        document.status = DocumentStatus.READY
        document.rendered_at = timezone.now()
        document.save()
    return document
