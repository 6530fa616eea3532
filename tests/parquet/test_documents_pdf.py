"""The parquet's two PDFs: the decision (every outcome) and the beneficiary sheet for the operator and
the police — what each shows, its data hash, and that the sheet leaks nothing of the evaluation nor of
the decision's reasoning. Text is read back with pypdf and compared without whitespace (pypdf splits
words at kerning gaps)."""

import datetime
import hashlib
import io
import json
import re

import pytest
from django.utils import timezone
from pypdf import PdfReader

from cidff import services as cidff_services
from cidff.instruments import definition_items
from cidff.models import Instrument
from cidff.reports import canonical_json
from core.files import read_private
from parquet import services
from parquet.documents import beneficiary_sheet_data, decision_data, decision_document_render, render_decision_pdf
from parquet.models import DecisionDocument, DecisionDocumentKind, DocumentStatus
from tests.clock import days_ago, days_ahead
from tests.evaluations import all_answers, complete, eligible
from tests.factories import renewal_report

SHA_RE = re.compile(r"SHA-256 des données\s*:\s*([0-9a-f]{64})")
REASONING = "Menaces réitérées <b>non</b> & danger actuel.\nSecond paragraphe de la motivation."
IMG_PAYLOAD = '<img src="http://169.254.169.254/latest">'

# Canary strings: each sits in a place the beneficiary sheet must never show.
NARRATIVE_CANARY = "CANARI-SYNTHESE-7f3a"
COMMENT_CANARY = "CANARI-COMMENTAIRE-91bd"
REASONING_CANARY = "CANARI-MOTIVATION-5c20"
FACTS_CANARY = "CANARI-FAITS-e4d1"
EMAIL_CANARY = "canari.courriel@example.test"
ELIGIBILITY_CANARY = "CANARI-ELIGIBILITE-0a77"


def dossier() -> dict:
    """A dossier whose every field the beneficiary sheet may show; one measure in force, one expired."""
    return {
        "victim": {
            "last_name": "Lambert-Rivière",
            "first_name": "Yasmina",
            "birth_date": datetime.date(1989, 3, 14),
            "phone": "06 11 22 33 44",
            "email": EMAIL_CANARY,
            "address": "8 allée des Tilleuls, 92160 Antony",
            "safe_contact": "Passer par sa voisine Mme Roche au 01 46 00 00 00",
            "safe_times": "Le mardi et le jeudi après 18 h",
            "language": "tamoul",
            "interpreter": True,
            "disability": "Mobilité réduite (fauteuil)",
        },
        "author": {
            "last_name": "Vasseur",
            "first_name": "Grégory",
            "birth_date": datetime.date(1982, 11, 30),
            "description": "Scooter noir immatriculé GH-456-JK",
            "relationship": "ex_pacs",
            "custody_status": "on_the_run",
        },
        "children": [{"first_name": "Inaya", "birth_date": datetime.date(2018, 6, 1), "residence": "victim"}],
        "facts": f"Faits détaillés {FACTS_CANARY}.",
        "measures": [
            {
                "type": "oppi",
                "authority": "JAF de Nanterre",
                "date": days_ago(3),
                "no_contact_ban": True,
                "expiry": days_ahead(180),
            },
            {
                "type": "composition_penale",
                "authority": "Autorité expirée Quimper",
                "date": datetime.date(2021, 1, 4),
                "no_contact_ban": True,
                "expiry": datetime.date(2021, 7, 4),
            },
        ],
    }


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def footer_hashes(pages: list[str]) -> set[str]:
    return {match for page in pages for match in SHA_RE.findall(page)}


def render(decision, kind) -> tuple[list[str], str, str]:
    """(pages, whole text squeezed, data hash) of the document the service created for this decision."""
    document, _ = DecisionDocument.objects.get_or_create(decision=decision, kind=kind)
    pdf, digest = render_decision_pdf(document)
    assert pdf.startswith(b"%PDF")
    pages = pages_text(pdf)
    return pages, squeeze("".join(pages)), digest


def assert_frame(decision, pages: list[str], digest: str) -> None:
    """Header, banner, page numbers and data hash on every page."""
    reference = decision.referral.reference
    for number, page in enumerate(pages, 1):
        assert reference in page
        assert "CONFIDENTIEL" in page
        assert f"Page {number} / {len(pages)}" in page
        assert squeeze("Parquet près le TJ de Nanterre") in squeeze(page)
    assert "Page 1 / " in pages[0]
    assert all(SHA_RE.search(page) for page in pages)
    assert footer_hashes(pages) == {digest}


def sent_evaluation(users, make_referral, *, yes=("V03", "V04"), **referral_overrides):
    """A sent initial report whose narrative, comments and eligibility carry canaries."""
    referral = make_referral("evaluation", **referral_overrides)
    evaluator, coordinator = users["eval1_sud"], users["coord_sud"]
    evaluation = cidff_services.evaluation_create(user=evaluator, referral_id=referral.pk)
    answers = all_answers(yes)
    answers["V04"]["comment"] = COMMENT_CANARY
    data = complete(
        narrative=f"Synthèse de l'évaluatrice {NARRATIVE_CANARY}.",
        answers=answers,
        eligibility=eligible(ban_authority=ELIGIBILITY_CANARY),
    )
    cidff_services.evaluation_update(user=evaluator, evaluation_id=evaluation.pk, data=data)
    for step, actor in (("finalize", evaluator), ("validate", coordinator), ("send", coordinator)):
        getattr(cidff_services, f"evaluation_{step}")(user=actor, evaluation_id=evaluation.pk)
    evaluation.refresh_from_db()
    return evaluation


# --- the decision ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "title"),
    [
        ("granted", "Attribution du téléphone"),
        ("refused", "Refus"),
        ("info_requested", "Demande de complément"),
        ("reserved", "Téléphone réservé jusqu'à la libération de l'auteur"),
    ],
)
def test_decision_pdf_for_each_initial_outcome(decided, outcome, title):
    fields = {"reasoning": REASONING}
    if outcome == "reserved":
        fields["reserved_until"] = timezone.localdate() + datetime.timedelta(days=45)
    decision = decided(outcome, **fields)
    assert decision.documents.filter(kind=DecisionDocumentKind.DECISION).exists()

    pages, flat, digest = render(decision, DecisionDocumentKind.DECISION)
    assert_frame(decision, pages, digest)
    victim = decision.referral.victim
    for expected in (
        "Décision du procureur de la République",
        title,
        "article 41-3-1 du code de procédure pénale",
        "version 1",
        victim["last_name"],
        victim["first_name"],
        datetime.date.fromisoformat(victim["birth_date"]).strftime("%d/%m/%Y"),
        decision.signed_by,
        timezone.localtime(decision.signed_at).strftime("%d/%m/%Y à %H:%M"),
        REASONING.replace("\n", ""),  # autoescaped: the markup shows as text
        f"Décision n° {decision.pk}",
    ):
        assert squeeze(expected) in flat, expected
    if outcome == "granted":
        assert squeeze("pour une durée de 6 mois") in flat
        assert squeeze("à compter de la remise du téléphone") in flat
    elif outcome == "reserved":
        assert squeeze(f"jusqu'au {decision.reserved_until:%d/%m/%Y}") in flat
    elif outcome == "info_requested":
        assert "QuestionposéeauCIDFF" in flat and "Motivation" not in flat
    elif outcome == "refused":
        assert "estrefusée" in flat


def test_renewal_and_end_decisions_show_the_period_and_the_phone(users, active, stock):
    attribution = active()
    renewal = renewal_report(attribution.referral)
    renewed = services.decision_create(
        user=users["prosecutor_nanterre"], evaluation_id=renewal.pk, outcome="renewed", reasoning=REASONING
    )
    pages, flat, digest = render(renewed, DecisionDocumentKind.DECISION)
    assert_frame(renewed, pages, digest)
    period = renewed.attribution
    for expected in (
        "Renouvellement",
        "Réévaluation avant échéance",
        "version 2",
        stock[0].phone_number,
        f"du {period.start_date:%d/%m/%Y} au {period.end_date:%d/%m/%Y}",
    ):
        assert squeeze(expected) in flat, expected

    second = renewal_report(renewed.referral)
    ended = services.decision_create(
        user=users["prosecutor_nanterre"], evaluation_id=second.pk, outcome="ended", reasoning=REASONING
    )
    pages, flat, digest = render(ended, DecisionDocumentKind.DECISION)
    assert_frame(ended, pages, digest)
    assert squeeze("Fin de la mesure (non-renouvellement)") in flat
    assert squeeze(f"Le téléphone n° {stock[0].phone_number}") in flat and "àrestituer" in flat
    assert squeeze(REASONING.replace("\n", "")) in flat


def test_decision_data_hash_is_the_sha256_of_the_canonical_data(decided):
    decision = decided("reserved", reasoning=REASONING, reserved_until=timezone.localdate() + datetime.timedelta(9))
    document = decision.documents.get(kind=DecisionDocumentKind.DECISION)
    _, digest = render_decision_pdf(document)
    data = decision_data(decision)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256(canonical.encode()).hexdigest() == digest
    assert json.loads(json.dumps(data)) == data
    assert data["outcome"] == {"code": "reserved", "label": "Téléphone réservé jusqu'à la libération de l'auteur"}
    assert data["reasoning"] == REASONING and data["report"]["version"] == 1
    signed_at = datetime.datetime.fromisoformat(data["signed_at"])
    assert signed_at.utcoffset() in (datetime.timedelta(hours=1), datetime.timedelta(hours=2))
    assert render_decision_pdf(document)[1] == digest


def test_reasoning_markup_is_text_never_fetched(decided, monkeypatch):
    fetched = []
    monkeypatch.setattr("core.pdf.OfflineURLFetcher.fetch", lambda self, url, headers=None: fetched.append(url))
    decision = decided("refused", reasoning=f"Refus. {IMG_PAYLOAD}")
    _, flat, _ = render(decision, DecisionDocumentKind.DECISION)
    assert squeeze(IMG_PAYLOAD) in flat
    assert fetched == []


# --- the beneficiary sheet -------------------------------------------------------------------------


def test_beneficiary_sheet_shows_what_the_operator_needs_and_nothing_of_the_evaluation(users, make_referral, stock):
    content = dossier()
    evaluation = sent_evaluation(users, make_referral, **content)
    decision = services.decision_create(
        user=users["prosecutor_nanterre"],
        evaluation_id=evaluation.pk,
        outcome="granted",
        reasoning=f"Attribution motivée {REASONING_CANARY}.",
    )
    attribution = services.attribution_handover(
        user=users["coord_sud"],
        decision_id=decision.pk,
        device_id=stock[1].pk,
        handover_date=timezone.localdate(),
        consent=True,
        geolocation_consent=True,
    )
    assert decision.documents.filter(kind=DecisionDocumentKind.BENEFICIARY_SHEET).exists()
    decision.refresh_from_db()

    pages, flat, digest = render(decision, DecisionDocumentKind.BENEFICIARY_SHEET)
    assert_frame(decision, pages, digest)
    victim, author = content["victim"], content["author"]
    for expected in (
        "Fiche bénéficiaire",
        "Conduite à tenir",
        "interdiction de contact",
        "Auteur en fuite",
        "interprète",
        stock[1].phone_number,
        f"{attribution.start_date:%d/%m/%Y}",
        f"{attribution.end_date:%d/%m/%Y}",
        victim["last_name"],
        victim["first_name"],
        victim["address"],
        victim["phone"],
        victim["safe_contact"],
        victim["safe_times"],
        victim["disability"],
        author["last_name"],
        author["first_name"],
        author["description"],
        "Ex-partenaire de PACS",
        "En fuite",
        "Ordonnance provisoire de protection immédiate (OPPI)",
        "Inaya",
        "Chez la victime",
    ):
        assert squeeze(expected) in flat, expected

    # Of the evaluation, only the retained level; nothing of the decision's reasoning, the facts or the contact
    # data not needed.
    definition = Instrument.objects.get(code="grille-vigie", is_active=True).definition
    retained = next(level["label"] for level in definition["levels"] if level["code"] == evaluation.final_level)
    assert squeeze(f"Niveau de danger retenu {retained}") in flat
    for canary in (NARRATIVE_CANARY, COMMENT_CANARY, REASONING_CANARY, FACTS_CANARY, EMAIL_CANARY, ELIGIBILITY_CANARY):
        assert canary not in flat, canary
    others = [level["label"] for level in definition["levels"] if level["label"] != retained]
    for label in (*others, "score", "Score", "éligibilité", "calculé"):
        assert squeeze(label) not in flat, label
    items = definition_items(definition)
    for item in items.values():
        assert squeeze(item["text"]) not in flat, item["code"]
    # Measures in force only: the expired one is left out.
    assert "Quimper" not in flat


def test_beneficiary_sheet_data_is_exactly_what_is_shown(active):
    attribution = active()
    decision = attribution.decision
    document = decision.documents.get(kind=DecisionDocumentKind.BENEFICIARY_SHEET)
    pages, _, digest = render(decision, DecisionDocumentKind.BENEFICIARY_SHEET)
    data = beneficiary_sheet_data(decision)
    assert hashlib.sha256(canonical_json(data).encode()).hexdigest() == digest
    assert set(data) == {
        "as_of",
        "parquet",
        "reference",
        "cidff",
        "decision_date",
        "period",
        "geolocation_consent",
        "danger_level",
        "victim",
        "author",
        "measures",
        "children",
        "conduct",
    }
    assert set(data["danger_level"]) == {"code", "label"}  # of the evaluation, the retained level only
    assert set(data["victim"]) == {
        "last_name",
        "first_name",
        "birth_date",
        "age",
        "address",
        "phone",
        "safe_contact",
        "safe_times",
        "language",
        "interpreter",
        "disability",
    }
    assert data["period"]["phone_number"] == attribution.device.phone_number
    assert document.kind == DecisionDocumentKind.BENEFICIARY_SHEET


def test_renewal_sheet_shows_the_new_period(users, active, stock):
    attribution = active()
    renewal = renewal_report(attribution.referral)
    renewed = services.decision_create(
        user=users["prosecutor_nanterre"], evaluation_id=renewal.pk, outcome="renewed", reasoning=REASONING_CANARY
    )
    pages, flat, digest = render(renewed, DecisionDocumentKind.BENEFICIARY_SHEET)
    assert_frame(renewed, pages, digest)
    assert squeeze(stock[0].phone_number) in flat
    assert f"{renewed.attribution.end_date:%d/%m/%Y}" in flat
    assert REASONING_CANARY not in flat


# --- storage ---------------------------------------------------------------------------------------


def test_decision_document_render_is_idempotent(decided):
    decision = decided("granted", reasoning=REASONING)
    document = decision.documents.get(kind=DecisionDocumentKind.DECISION)
    assert document.status == DocumentStatus.PENDING

    first = decision_document_render(document_id=document.pk)
    assert first.status == DocumentStatus.READY and first.rendered_at is not None
    assert first.data_sha256 == render_decision_pdf(first)[1]
    stored = read_private(first.storage_name)
    assert stored.startswith(b"%PDF") and hashlib.sha256(stored).hexdigest() == first.sha256

    second = decision_document_render(document_id=document.pk)
    assert (second.sha256, second.storage_name, second.rendered_at) == (
        first.sha256,
        first.storage_name,
        first.rendered_at,
    )
