"""Attachments through the web page: content-checked upload, permission-checked download."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from referrals.models import ReferralDocument
from tests.web.helpers import text

pytestmark = pytest.mark.django_db

# A real (minimal) PDF: uploads are read by pypdf, a file it cannot parse is refused.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\nxref\n0 4\n0000000000 65535 f \n"
    b"0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\n"
    b"startxref\n164\n%%EOF\n"
)


def upload(client, referral, content, name="piece.pdf", kind="court_decision"):
    return client.post(
        reverse("referral-document-upload", args=[referral.pk]),
        {
            "piece-kind": kind,
            "piece-description": "Ordonnance de protection",
            "piece-file": SimpleUploadedFile(name, content, content_type="application/pdf"),
        },
    )


def stored_files(settings):
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_upload_a_pdf_then_download_it(api, users, make_referral):
    referral = make_referral("received")
    client = api(users["coord_sud"])
    response = upload(client, referral, PDF)
    document = ReferralDocument.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referral-detail", args=[referral.pk]) + "#pieces"

    html = text(client.get(response["Location"]))
    assert f"Pièce n° {document.pk} ajoutée au dossier {referral.reference}." in html
    assert reverse("document-download", args=[document.pk]) in html
    assert "Décision de justice" in html and "Ordonnance de protection" in html

    response = client.get(reverse("document-download", args=[document.pk]))
    assert response.status_code == 200
    assert response.content == PDF
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="{referral.reference}-piece-{document.pk}.pdf"' in response["Content-Disposition"]


def test_a_text_file_is_refused_in_french_and_nothing_is_stored(api, users, make_referral, settings):
    referral = make_referral("received")
    response = upload(api(users["coord_sud"]), referral, b"Bonjour, ceci est un texte.\n", name="notes.pdf")
    html = text(response)
    assert response.status_code == 415
    assert "Type de fichier non accepté : PDF, JPEG, PNG, audio ou vidéo uniquement." in html
    assert "La pièce n'a pas été ajoutée" in html
    assert not ReferralDocument.objects.exists()
    assert not stored_files(settings)


def test_an_upload_without_file_is_explained(api, users, make_referral):
    referral = make_referral("received")
    response = api(users["coord_sud"]).post(
        reverse("referral-document-upload", args=[referral.pk]), {"piece-kind": "evidence"}
    )
    assert response.status_code == 400
    assert "Joignez un fichier." in text(response)


def test_the_author_adds_a_piece_to_her_draft_but_not_after_submission(api, users, make_referral):
    referral = make_referral("draft")
    client = api(users["referrer_ccas"])
    assert "Ajouter une pièce" in text(client.get(reverse("referral-detail", args=[referral.pk])))
    assert upload(client, referral, PDF).status_code == 302

    submitted = make_referral("submitted")
    assert "Ajouter une pièce" not in text(client.get(reverse("referral-detail", args=[submitted.pk])))
    assert upload(client, submitted, PDF).status_code == 403
    assert ReferralDocument.objects.filter(referral=submitted).count() == 0


def test_documents_of_another_cidff_are_not_found(api, users, make_referral):
    referral = make_referral("received")
    upload(api(users["coord_sud"]), referral, PDF)
    document = ReferralDocument.objects.get()
    client = api(users["coord_nord"])
    assert client.get(reverse("document-download", args=[document.pk])).status_code == 404
    assert upload(client, referral, PDF).status_code == 404
