"""What the parquet and phone pages share: document slugs, the conflict page, the decisions of a dossier."""

from django.shortcuts import render
from django.urls import reverse

from cidff import selectors as cidff_selectors
from cidff.models import Evaluation
from parquet import selectors
from parquet.models import (
    WITHDRAWAL_REASONS_CHOICES,
    DecisionDocumentKind,
    DocumentStatus,
)
from referrals.workflow import ClosureReason

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


def conflict_page(request, message, *, back_url, back_label, status=409):
    """A 409 page that says what happened and leads back where the user came from."""
    context = {"message": message, "back_url": back_url, "back_label": back_label}
    return render(request, "parquet/web/conflict.html", context, status=status)


def back_to_dossier(referral_id) -> dict:
    return {"back_url": reverse("referral-detail", args=[referral_id]), "back_label": "Retour au dossier"}


def latest_sent(user, referral) -> Evaluation | None:
    return (
        cidff_selectors.evaluations_sent_latest_first(cidff_selectors.evaluation_list_visible(user=user))
        .filter(referral=referral)
        .first()
    )


def document_rows(decision) -> list[dict]:
    """The decision's PDFs (the decision itself, the beneficiary sheet) with their state."""
    return [
        {
            "label": document.get_kind_display(),
            "ready": document.status == DocumentStatus.READY,
            "url": reverse("decision-document", args=[decision.pk, SLUG_OF_KIND[document.kind]]),
        }
        for document in sorted(decision.documents.all(), key=lambda d: d.kind != DecisionDocumentKind.DECISION)
    ]


def decision_rows(user, referral) -> list[dict]:
    decisions = (
        selectors.decision_list_of_dossier(user=user, referral=referral).prefetch_related("documents").order_by("-id")
    )
    return [{"decision": decision, "documents": document_rows(decision)} for decision in decisions]
