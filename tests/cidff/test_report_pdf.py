"""The rapport d'évaluation du danger: what the PDF shows, its data hash, the draft marking, and
that neither user content nor raw HTML can make the renderer fetch anything."""

import datetime
import hashlib
import io
import json
import logging
import re
import socket
import urllib.request

import pytest
from pypdf import PdfReader

from cidff import services
from cidff.reports import render_report_pdf, report_data
from core.pdf import html_to_pdf
from tests.evaluations import all_answers

SHA_RE = re.compile(r"SHA-256 des données\s*:\s*([0-9a-f]{64})")
RED_YES = {
    "V03": "Tentative d'étranglement, d'étouffement ou de strangulation",
    "V04": "Menaces de mort, y compris mises en scène",
    "A01": "L'auteur a accès à une arme à feu",
}
IMG_PAYLOAD = '<img src="http://169.254.169.254/latest">'
LINK_PAYLOAD = '<link rel=stylesheet href="file:///etc/passwd">'


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def squeeze(text: str) -> str:
    """Text without any whitespace: line wrapping and kerning gaps do not matter."""
    return re.sub(r"\s+", "", text)


def footer_hashes(pages: list[str]) -> set[str]:
    return {match for page in pages for match in SHA_RE.findall(page)}


@pytest.fixture
def no_network(monkeypatch):
    """Any URL opened or socket connected is recorded (and refused): the test asserts none was."""
    calls = []

    def refuse_open(self, fullurl, *args, **kwargs):
        calls.append(("urlopen", getattr(fullurl, "full_url", fullurl)))
        raise AssertionError(f"URL ouverte pendant le rendu : {fullurl}")

    def refuse_connect(address, *args, **kwargs):
        calls.append(("connect", address))
        raise AssertionError(f"connexion ouverte pendant le rendu : {address}")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", refuse_open)
    monkeypatch.setattr(socket, "create_connection", refuse_connect)
    return calls


def test_finalized_report_shows_the_dossier_the_level_and_the_red_items(make_evaluation):
    evaluation = make_evaluation("validated", yes=(*RED_YES, "V01"))
    pdf, digest = render_report_pdf(evaluation, version=1)

    assert pdf.startswith(b"%PDF")
    pages = pages_text(pdf)
    text = "\n".join(pages)
    flat = squeeze(text)
    reference = evaluation.referral.reference
    assert all(reference in page for page in pages), "la référence figure en tête de chaque page"
    assert all("CONFIDENTIEL" in page for page in pages)
    assert all(re.search(rf"Page {number} / {len(pages)}", page) for number, page in enumerate(pages, 1))
    assert "Page 1 / " in text
    assert "Danger grave" in text
    assert "Facteurs de danger majeur relevés" in text
    for wording in RED_YES.values():
        assert squeeze(wording) in flat
    assert "élément rouge" in text and "⚑" in text
    assert evaluation.referral.cidff.name in text and "TJ de Nanterre" in text
    assert all("Version 1" in page for page in pages)
    assert "PROJET" not in text
    assert footer_hashes(pages) == {digest}


def test_data_hash_is_the_sha256_of_the_canonical_report_data(make_evaluation):
    evaluation = make_evaluation("finalized")
    _, digest = render_report_pdf(evaluation, version=1)
    data = report_data(evaluation)
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    assert hashlib.sha256(canonical.encode()).hexdigest() == digest
    # Dates are ISO strings (datetimes in Europe/Paris), everything is plain JSON.
    assert json.loads(json.dumps(data)) == data
    datetime.date.fromisoformat(data["victim"]["birth_date"])
    finalized = datetime.datetime.fromisoformat(data["signatures"]["finalized_at"])
    assert finalized.utcoffset() in (datetime.timedelta(hours=1), datetime.timedelta(hours=2))
    assert data["level"]["computed"] == {"code": "severe", "label": "Danger grave"}
    assert [item["code"] for item in data["red_yes"]] == ["V03", "V04"]
    # Rendering twice shows the same data: the same hash, whatever the version number.
    assert render_report_pdf(evaluation, version=2)[1] == digest


def test_draft_preview_is_marked_on_every_page(make_evaluation):
    evaluation = make_evaluation("draft")
    pdf, digest = render_report_pdf(evaluation, version=None)
    pages = pages_text(pdf)
    assert len(pages) >= 2
    for page in pages:
        assert "PROJET" in page and "non transmis" in page
        assert "Projet" in page  # the footer, instead of a version number
        assert "Version " not in page
    assert footer_hashes(pages) == {digest}


def test_version_number_in_the_footer(make_evaluation):
    evaluation = make_evaluation("validated")
    pages = pages_text(render_report_pdf(evaluation, version=2)[0])
    assert all("Version 2" in page for page in pages)
    assert not any("PROJET" in page for page in pages)


def test_footer_hash_changes_when_an_answer_changes(users, make_evaluation):
    evaluation = make_evaluation("draft")
    pdf, before = render_report_pdf(evaluation, version=None)
    assert footer_hashes(pages_text(pdf)) == {before}

    services.evaluation_update(
        user=users["eval1_sud"], evaluation_id=evaluation.pk, data={"answers": {"A01": {"answer": "yes"}}}
    )
    evaluation.refresh_from_db()
    pdf, after = render_report_pdf(evaluation, version=None)
    assert after != before
    assert footer_hashes(pages_text(pdf)) == {after}
    assert squeeze(RED_YES["A01"]) in squeeze("".join(pages_text(pdf)))


def test_raised_level_shows_both_levels_and_the_reason(users, make_evaluation):
    evaluation = make_evaluation("draft", yes=("V01",))
    services.evaluation_update(
        user=users["eval1_sud"],
        evaluation_id=evaluation.pk,
        data={"judgement": "severe", "judgement_reason": "Arme détenue par un proche de l'auteur."},
    )
    services.evaluation_finalize(user=users["eval1_sud"], evaluation_id=evaluation.pk)
    evaluation.refresh_from_db()
    text = "".join(pages_text(render_report_pdf(evaluation, version=1)[0]))
    assert "Danger grave" in text and "Danger à surveiller" in text
    assert squeeze("Arme détenue par un proche de l'auteur.") in squeeze(text)
    assert "Aucun élément rouge" in text


def test_incomplete_evaluation_is_flagged(make_evaluation):
    evaluation = make_evaluation("finalized", yes=("V03",), unknown=("A01", "A02", "A03", "A04", "A05", "A06"))
    assert evaluation.incomplete
    text = "".join(pages_text(render_report_pdf(evaluation, version=1)[0]))
    assert "Évaluation incomplète" in text


def test_blocking_eligibility_is_shown(make_evaluation):
    evaluation = make_evaluation("draft", eligibility={"consent": None})
    text = "".join(pages_text(render_report_pdf(evaluation, version=None)[0]))
    assert "Bloquant" in text
    assert "Le consentement exprès de la victime est requis." in text


def test_user_content_is_escaped_and_nothing_is_fetched(users, make_evaluation, no_network, caplog):
    evaluation = make_evaluation("draft")
    answers = all_answers(("V03", "V04"))
    answers["V05"]["comment"] = LINK_PAYLOAD
    services.evaluation_update(
        user=users["eval1_sud"],
        evaluation_id=evaluation.pk,
        data={"narrative": f"Première ligne.\n{IMG_PAYLOAD}\n{LINK_PAYLOAD}", "answers": answers},
    )
    evaluation.refresh_from_db()
    with caplog.at_level(logging.WARNING, logger="core.pdf"):
        pdf, _ = render_report_pdf(evaluation, version=None)

    flat = squeeze("".join(pages_text(pdf)))
    assert squeeze(IMG_PAYLOAD) in flat  # shown as text, not as an image
    assert flat.count(squeeze(LINK_PAYLOAD)) == 2  # narrative and the V05 comment
    assert no_network == []
    assert "ressource externe refusée" not in caplog.text  # escaped: the renderer never even saw a URL


def test_html_to_pdf_fetches_nothing_from_raw_html(no_network, caplog):
    html = """<!DOCTYPE html><html><head>
    <link rel="stylesheet" href="file:///etc/passwd">
    <style>@import url(http://example.com/x.css); body { font-family: "DejaVu Sans"; }</style>
    </head><body>
    <p>Texte du document</p>
    <img src="http://169.254.169.254/">
    </body></html>"""
    with caplog.at_level(logging.WARNING, logger="core.pdf"):
        pdf = html_to_pdf(html)

    assert pdf.startswith(b"%PDF")
    assert "Textedudocument" in squeeze("".join(pages_text(pdf)))
    assert no_network == []
    refused = [record for record in caplog.records if "ressource externe refusée" in record.getMessage()]
    assert {record.getMessage().rsplit(" ", 1)[-1].strip(")") for record in refused} >= {"file", "http"}
