"""The documents Vigie renders are tagged PDF in French: a structure tree screen readers can follow,
/MarkInfo Marked true and /Lang "fr" in the catalog (core.pdf renders PDF/UA-1)."""

import io

import pytest
from pypdf import PdfReader

from cidff.reports import render_report_pdf
from parquet.documents import render_decision_pdf
from parquet.models import DecisionDocument, DecisionDocumentKind

pytestmark = pytest.mark.django_db


def assert_tagged_french(pdf: bytes) -> None:
    catalog = PdfReader(io.BytesIO(pdf)).trailer["/Root"]
    assert catalog["/MarkInfo"]["/Marked"] in (True, "true")
    tree = catalog["/StructTreeRoot"].get_object()
    children = tree["/K"]
    children = children if isinstance(children, list) else [children]
    assert children, "arbre de structure vide"
    document = children[0].get_object()
    assert document["/S"] == "/Document" and document["/K"]  # the document element holds the content
    assert str(catalog["/Lang"]) == "fr"


@pytest.mark.parametrize("version", [None, 1])
def test_the_evaluation_report_is_a_tagged_pdf_in_french(make_evaluation, version):
    evaluation = make_evaluation("validated")
    pdf, _ = render_report_pdf(evaluation, version=version)
    assert_tagged_french(pdf)


@pytest.mark.parametrize("kind", DecisionDocumentKind.values)
def test_the_decision_documents_are_tagged_pdf_in_french(decided, kind):
    decision = decided("granted")
    document, _ = DecisionDocument.objects.get_or_create(decision=decision, kind=kind)
    pdf, _ = render_decision_pdf(document)
    assert_tagged_french(pdf)
