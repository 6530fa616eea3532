"""Uploaded PDFs must be inert: scripts, automatic or launch actions, embedded files, multimedia and XFA forms
are refused (415, in French), as is a "PDF" that cannot be read, through the API and through the web page alike;
nothing is stored then. The documents are built here with pypdf."""

import html
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DictionaryObject, FloatObject, NameObject, TextStringObject

from audit.models import AccessEvent
from referrals.models import ReferralDocument

pytestmark = pytest.mark.django_db

ACTIVE = "PDF refusé : il contient du contenu actif"
UNREADABLE = "PDF refusé : le fichier n'est pas un PDF lisible."
PROTECTED = "PDF refusé : il est protégé par un mot de passe."


def name(value: str) -> NameObject:
    return NameObject(value)


def pdict(**entries) -> DictionaryObject:
    """A PDF dictionary from keyword entries: strings starting with "/" are names, others text."""

    def value(v):
        if isinstance(v, str):
            return NameObject(v) if v.startswith("/") else TextStringObject(v)
        return v

    return DictionaryObject({NameObject(f"/{key}"): value(v) for key, v in entries.items()})


def javascript(code="app.alert('Vigie')") -> DictionaryObject:
    return pdict(Type="/Action", S="/JavaScript", JS=code)


def build(change=None, encrypt=None) -> bytes:
    """A one-page A4 PDF, changed by `change(writer, page)` before it is written."""
    writer = PdfWriter()
    page = writer.add_blank_page(width=595, height=842)
    if change:
        change(writer, page)
    if encrypt:
        writer.encrypt(**encrypt)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def annotation(writer, **entries):
    rect = ArrayObject([FloatObject(v) for v in (50, 50, 200, 80)])
    writer.add_annotation(0, pdict(Type="/Annot", Rect=rect, **entries))


def open_action(target):
    def change(writer, page):
        writer.root_object[name("/OpenAction")] = target

    return change


def raw_pdf(*objects: bytes) -> bytes:
    """A PDF written by hand (objects numbered from 1, the first is the catalog), with a correct xref table."""
    out, offsets = bytearray(b"%PDF-1.7\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PAGES = (b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>", b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>")

ACTIVE_PDFS = {
    "open-action-javascript": (build(open_action(javascript())), "JavaScript"),
    "document-javascript": (build(lambda writer, page: writer.add_js("app.alert('Vigie')")), "JavaScript"),
    "embedded-file": (build(lambda writer, page: writer.add_attachment("notes.txt", b"secret")), "fichier incorporé"),
    "launch-annotation": (
        build(lambda writer, page: annotation(writer, Subtype="/Link", A=pdict(S="/Launch", F="calc.exe"))),
        "lancement de programme",
    ),
    "page-additional-action": (
        build(lambda writer, page: page.__setitem__(name("/AA"), pdict(O=javascript()))),
        "action automatique",
    ),
    "field-javascript-action": (
        build(lambda writer, page: annotation(writer, Subtype="/Widget", FT="/Btn", T="ok", A=javascript())),
        "JavaScript",
    ),
    "file-attachment-annotation": (
        build(lambda writer, page: annotation(writer, Subtype="/FileAttachment", FS=pdict(Type="/Filespec"))),
        "fichier incorporé",
    ),
    "rich-media": (build(lambda writer, page: annotation(writer, Subtype="/RichMedia")), "multimédia"),
    "xfa-form": (
        build(
            lambda writer, page: writer.root_object.__setitem__(
                name("/AcroForm"), pdict(Fields=ArrayObject(), XFA="<xdp:xdp/>")
            )
        ),
        "formulaire XFA",
    ),
    "open-action-uri": (build(open_action(pdict(S="/URI", URI="https://example.org/"))), "action à l'ouverture"),
    # Names may be written with #xx escapes: "/J#61vaScript" is /JavaScript to every reader.
    "escaped-name": (
        raw_pdf(b"<< /Type /Catalog /Pages 2 0 R /OpenAction 4 0 R >>", *PAGES, b"<< /S /J#61vaScript /J#53 (1) >>"),
        "JavaScript",
    ),
    # An action reached only through a reference chain (a page's /AA held in another object).
    "indirect-chain": (
        raw_pdf(
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /AA 4 0 R >>",
            b"<< /C 5 0 R >>",
            b"<< /S /Launch /F (cmd.exe) >>",
        ),
        "action automatique",
    ),
}
UNREADABLE_PDFS = {
    "header-only": (b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n", UNREADABLE),
    "garbage": (b"%PDF-1.7\n" + bytes(range(256)) * 64, UNREADABLE),
    "nested-to-death": (b"%PDF-1.7\n1 0 obj\n" + b"[" * 100_000 + b"\nendobj\n%%EOF\n", UNREADABLE),
    "no-page": (raw_pdf(b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"), UNREADABLE),
    "password": (build(encrypt={"user_password": "secret", "algorithm": "AES-128"}), PROTECTED),
}
INERT_PDFS = {
    "blank": build(),
    "links-and-opening-page": build(
        lambda writer, page: (
            annotation(writer, Subtype="/Link", A=pdict(S="/URI", URI="https://www.legifrance.gouv.fr/")),
            writer.root_object.__setitem__(name("/OpenAction"), ArrayObject([page.indirect_reference, name("/Fit")])),
        )
    ),
    "owner-password-only": build(encrypt={"user_password": "", "owner_password": "owner", "algorithm": "AES-128"}),
}


def stored_files(settings):
    root = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def upload_api(client, referral, content):
    return client.post(
        f"/api/v1/referrals/{referral.pk}/documents/",
        {"file": SimpleUploadedFile("piece.pdf", content, content_type="application/pdf"), "kind": "court_decision"},
    )


def upload_web(client, referral, content):
    return client.post(
        reverse("referral-document-upload", args=[referral.pk]),
        {
            "piece-kind": "court_decision",
            "piece-description": "Ordonnance de protection",
            "piece-file": SimpleUploadedFile("piece.pdf", content, content_type="application/pdf"),
        },
    )


def refusal(channel, response) -> str:
    """The refusal's message: `detail` of the API, the error under the file field of the page."""
    assert response.status_code == 415
    if channel == "api":
        return response.json()["detail"]
    return html.unescape(response.content.decode())


def assert_nothing_stored(settings):
    assert not ReferralDocument.objects.exists()
    assert not stored_files(settings)
    assert not AccessEvent.objects.filter(action="document.upload").exists()


@pytest.mark.parametrize("channel", ["api", "web"])
@pytest.mark.parametrize("case", [*ACTIVE_PDFS, *UNREADABLE_PDFS])
def test_active_or_unreadable_pdfs_are_refused_and_nothing_is_stored(
    api, users, make_referral, settings, case, channel
):
    content, expected = ACTIVE_PDFS.get(case) or UNREADABLE_PDFS[case]
    referral = make_referral("received")
    client = api(users["coord_sud"])
    response = (upload_api if channel == "api" else upload_web)(client, referral, content)
    message = refusal(channel, response)
    if case in ACTIVE_PDFS:
        assert ACTIVE in message and expected in message
        assert "Imprimez-le en PDF" in message
    else:
        assert expected in message
    assert_nothing_stored(settings)


def test_the_web_page_shows_the_refusal_under_the_file_field(api, users, make_referral, settings):
    referral = make_referral("received")
    response = upload_web(api(users["coord_sud"]), referral, ACTIVE_PDFS["open-action-javascript"][0])
    page = html.unescape(response.content.decode())
    assert response.status_code == 415
    assert "La pièce n'a pas été ajoutée" in page
    assert 'id="id_piece-file_error">PDF refusé : il contient du contenu actif (du JavaScript).' in page
    assert_nothing_stored(settings)


@pytest.mark.parametrize("channel", ["api", "web"])
@pytest.mark.parametrize("case", list(INERT_PDFS))
def test_inert_pdfs_are_still_accepted(api, users, make_referral, settings, case, channel):
    content = INERT_PDFS[case]
    referral = make_referral("received")
    client = api(users["coord_sud"])
    response = (upload_api if channel == "api" else upload_web)(client, referral, content)
    assert response.status_code == (201 if channel == "api" else 302), response.content[:500]
    document = ReferralDocument.objects.get()
    assert document.content_type == "application/pdf"
    assert len(stored_files(settings)) == 1
    download = client.get(f"/api/v1/documents/{document.pk}/download/")
    assert download.status_code == 200 and download.content == content


def test_the_pdfs_built_here_are_what_they_claim():
    """The active samples really carry their active part, and a reader opens them (pypdf, as a viewer would)."""
    reader = PdfReader(io.BytesIO(ACTIVE_PDFS["open-action-javascript"][0]))
    assert reader.trailer["/Root"]["/OpenAction"]["/S"] == "/JavaScript"
    reader = PdfReader(io.BytesIO(ACTIVE_PDFS["escaped-name"][0]))
    assert reader.trailer["/Root"]["/OpenAction"]["/S"] == "/JavaScript"
    reader = PdfReader(io.BytesIO(ACTIVE_PDFS["embedded-file"][0]))
    assert list(reader.attachments) == ["notes.txt"]
    assert len(PdfReader(io.BytesIO(INERT_PDFS["blank"])).pages) == 1


def test_a_pdf_too_complex_to_inspect_whole_is_refused(api, users, make_referral, settings, monkeypatch):
    monkeypatch.setattr("core.pdf_inspect.MAX_PDF_OBJECTS", 3)
    response = upload_api(api(users["coord_sud"]), make_referral("received"), INERT_PDFS["blank"])
    assert refusal("api", response) == "PDF refusé : il est trop complexe pour être vérifié."
    assert_nothing_stored(settings)
