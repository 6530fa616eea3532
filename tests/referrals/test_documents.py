"""Attachments: content-checked, size-limited, encrypted in private storage, journaled downloads."""

import hashlib
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from audit.models import AccessEvent
from referrals.models import ReferralDocument

pytestmark = pytest.mark.django_db

# A real (minimal) PDF: uploads are read by pypdf, a file it cannot parse is refused.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\nxref\n0 4\n0000000000 65535 f \n"
    b"0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\n"
    b"startxref\n164\n%%EOF\n"
)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\x00" * 64


def upload(client, referral, content, name="piece.pdf", **extra):
    return client.post(
        f"/api/v1/referrals/{referral.pk}/documents/",
        {"file": SimpleUploadedFile(name, content, content_type="application/pdf"), **extra},
    )


def stored_files(settings):
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize("content, mime", [(PDF, "application/pdf"), (PNG, "image/png"), (MP3, "audio/mpeg")])
def test_accepted_types_are_stored_encrypted_with_their_sha256(api, users, make_referral, settings, content, mime):
    referral = make_referral("received")
    response = upload(api(users["coord_sud"]), referral, content, kind="court_decision", description="Ordonnance")
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["content_type"] == mime and data["sha256"] == hashlib.sha256(content).hexdigest()
    [path] = stored_files(settings)
    assert content not in path.read_bytes()  # encrypted at rest
    assert not path.is_relative_to(settings.STATIC_ROOT)

    response = api(users["coord_sud"]).get(f"/api/v1/documents/{data['id']}/download/")
    assert response.status_code == 200
    assert response.content == content
    assert response["Content-Type"] == mime
    assert referral.reference in response["Content-Disposition"]
    assert (
        AccessEvent.objects.filter(
            action="document.open", object_type="referraldocument", object_id=str(data["id"])
        ).count()
        == 1
    )


def test_type_is_read_from_the_content_not_the_name(api, users, make_referral, settings):
    referral = make_referral("received")
    response = upload(api(users["coord_sud"]), referral, b"#!/bin/sh\nrm -rf /\n", name="rapport.pdf")
    assert response.status_code == 415
    assert "PDF, JPEG, PNG" in response.json()["detail"]
    assert not ReferralDocument.objects.exists() and not stored_files(settings)


def test_html_disguised_as_image_is_refused(api, users, make_referral, settings):
    referral = make_referral("received")
    response = upload(api(users["coord_sud"]), referral, b"<svg onload=alert(1)>", name="photo.png")
    assert response.status_code == 415
    assert not stored_files(settings)


def test_too_large_answers_413_and_stores_nothing(api, users, make_referral, settings):
    settings.VIGIE_MAX_UPLOAD_BYTES = 1024
    referral = make_referral("received")
    response = upload(api(users["coord_sud"]), referral, PDF + b"0" * 2048)
    assert response.status_code == 413
    assert "trop volumineux" in response.json()["detail"]
    assert not ReferralDocument.objects.exists() and not stored_files(settings)


def test_bad_kind_or_missing_file_is_400(api, users, make_referral, settings):
    referral = make_referral("received")
    client = api(users["coord_sud"])
    assert upload(client, referral, PDF, kind="selfie").status_code == 400
    assert client.post(f"/api/v1/referrals/{referral.pk}/documents/", {"kind": "evidence"}).status_code == 400
    assert upload(client, referral, b"").status_code == 400
    assert not stored_files(settings)


def test_closed_dossier_takes_no_more_documents(api, users, make_referral, settings):
    referral = make_referral("closed")
    assert upload(api(users["coord_sud"]), referral, PDF).status_code == 409
    assert not stored_files(settings)


def test_referrer_attaches_to_her_draft(api, users, make_referral):
    referral = make_referral("draft")
    assert upload(api(users["referrer_ccas"]), referral, PDF).status_code == 201
    listing = api(users["referrer_ccas"]).get(f"/api/v1/referrals/{referral.pk}/documents/").json()
    assert len(listing["results"]) == 1
