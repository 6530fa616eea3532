"""The shared input plumbing: the JSON parser, ISO dates read back from encrypted JSON, uploaded files' checks."""

import datetime
import io
import json

from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st
from pypdf import PdfWriter
from pypdf.generic import DictionaryObject, NameObject, TextStringObject
from rest_framework import exceptions

from core.api import validation_error_dict
from core.documents import as_date
from core.exceptions import UnsupportedFileType
from core.files import sniff_content_type
from core.parsers import JSON_MAX_DEPTH, JSONParser, json_depth
from core.pdf_inspect import check_pdf_inert
from core.web import parse_iso_date
from tests.properties.strategies import ANYTHING, JSON, PROPERTY_SETTINGS, TEXT, assert_french

# --- the JSON parser ------------------------------------------------------------------------------------------

JSON_TOKENS = st.sampled_from(
    ["{", "}", "[", "]", ",", ":", '"', "\\", "\\u", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\u0000", "1e400"]
    + ["-1e400", "NaN", "Infinity", "-Infinity", "null", "true", "tru", "0", "-0", "01", "1.", ".5", "9" * 5000]
    + ["\ufeff", "\x00", "é", "\udcff", " ", "\n", '"a"', '{"a":', "[" * 40, "]" * 40, '"\\x41"', "'a'"]
)
CHARSETS = st.sampled_from(["utf-8", "utf-8", "utf-8", "latin-1", "utf-16", "ascii", "utf-8-sig", "inconnu", ""])


def _encode(text: str) -> bytes:
    return text.encode("utf-8", errors="surrogatepass")


JSON_BODIES = st.one_of(
    st.binary(max_size=300),
    JSON.map(json.dumps).map(_encode),
    st.lists(JSON_TOKENS, max_size=30).map("".join).map(_encode),
    st.builds(
        lambda head, tokens, tail: _encode(head + "".join(tokens) + tail),
        JSON.map(json.dumps),
        st.lists(JSON_TOKENS, max_size=5),
        JSON.map(json.dumps),
    ),
    # deep nesting around the limit, with valid and broken closings
    st.builds(
        lambda depth, inner, closed: _encode("[" * depth + inner + ("]" * depth if closed else "")),
        st.integers(JSON_MAX_DEPTH - 2, 3000),
        st.sampled_from(["", "1", '{"a":1}', '"\\ud800"']),
        st.booleans(),
    ),
    st.builds(lambda depth: _encode('{"a":' * depth + "1" + "}" * depth), st.integers(JSON_MAX_DEPTH - 2, 1200)),
)


def _strict_dump(data) -> bytes:
    """What the API renderer does with parsed data: strict JSON (no NaN, no infinity), encoded in UTF-8."""
    return json.dumps(data, ensure_ascii=False, allow_nan=False).encode()


@PROPERTY_SETTINGS
@given(body=JSON_BODIES, charset=CHARSETS, limit=st.sampled_from([None, 64, 4096]))
@example(body=b'{"urgency": "\\ud800"}', charset="utf-8", limit=None)  # a lone surrogate: was a 500 when rendered
@example(body=b'{"\\udfff": 1}', charset="utf-8", limit=None)
@example(body=b'{"cidff": 1e400}', charset="utf-8", limit=None)  # infinity: OverflowError in a pk lookup
@example(body=b"[-1e999]", charset="utf-8", limit=None)
@example(body=b'"\\ud83d\\ude00"', charset="utf-8", limit=None)  # a valid pair stays accepted
def test_json_parser(settings, body, charset, limit):
    """Any body: data the API can store and render again (depth ≤ 32, UTF-8 text, finite numbers), or a French 400."""
    if limit is not None:
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = limit
    context = {"encoding": charset} if charset else {}
    try:
        data = JSONParser().parse(io.BytesIO(body), parser_context=context)
    except exceptions.ParseError as exc:
        assert_french(str(exc.detail))
        return
    assert json_depth(data, JSON_MAX_DEPTH) <= JSON_MAX_DEPTH
    _strict_dump(data)
    if body == b'"\\ud83d\\ude00"':
        assert data == "\U0001f600"


def _depth(value) -> int:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return 1 + max((_depth(child) for child in value), default=0)
    return 0


DEEP_JSON = st.recursive(
    st.one_of(st.none(), st.integers(), st.text(max_size=3)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=40,
)


@PROPERTY_SETTINGS
@given(data=DEEP_JSON, stop=st.integers(0, 40))
def test_json_depth(data, stop):
    depth = json_depth(data, stop)
    if _depth(data) <= stop:
        assert depth == _depth(data)
    else:
        assert depth > stop


# --- ISO dates kept in encrypted JSON -------------------------------------------------------------------------

DATE_VALUES = st.one_of(ANYTHING, st.dates(), st.datetimes(), st.datetimes(timezones=st.timezones()))


@PROPERTY_SETTINGS
@given(value=DATE_VALUES)
@example(value="2026-02-30")
@example(value=10**5000)
def test_parse_iso_date(value):
    """Never raises: a date (or the datetime given), else None."""
    result = parse_iso_date(value)
    assert result is None or isinstance(result, datetime.date)


@PROPERTY_SETTINGS
@given(value=DATE_VALUES)
def test_as_date(value):
    result = as_date(value)
    assert result is None or (isinstance(result, datetime.date) and not isinstance(result, datetime.datetime))


# --- uploaded files -------------------------------------------------------------------------------------------


def _pdf(kind: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    if kind == "javascript":
        action = DictionaryObject(
            {
                NameObject("/S"): NameObject("/JavaScript"),
                NameObject("/JS"): TextStringObject("app.alert(1)"),
            }
        )
        writer.root_object[NameObject("/OpenAction")] = action
    elif kind == "encrypted":
        writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


SEED_PDFS = {kind: _pdf(kind) for kind in ("blank", "javascript", "encrypted")}
PDF_TOKENS = st.sampled_from(
    [b"<<", b">>", b"[", b"]", b"/JS", b"/AA", b"/S /Launch", b"/OpenAction", b"/Root", b"1 0 R", b"99 0 R", b"obj"]
    + [b"endobj", b"stream\n", b"endstream", b"xref", b"trailer", b"startxref", b"%%EOF", b"(", b")", b"\\", b"9" * 40]
    + [b"/Type /Pages", b"/Kids [3 0 R 3 0 R]", b"/Count -1", b"/Filter /FlateDecode", b"/Length 99999999", b"\x00"]
)


def _mutate(seed: bytes, edits) -> bytes:
    data = bytearray(seed)
    for position, action, payload in edits:
        at = position % (len(data) + 1)
        if action == "insert":
            data[at:at] = payload
        elif action == "replace":
            data[at : at + len(payload)] = payload
        elif action == "delete":
            del data[at : at + len(payload) * 8]
        else:  # truncate
            del data[at:]
    return bytes(data)


PDF_BODIES = st.one_of(
    st.binary(max_size=400),
    st.binary(max_size=200).map(lambda tail: b"%PDF-1.7\n" + tail),
    st.builds(
        _mutate,
        st.sampled_from(list(SEED_PDFS.values())),
        st.lists(
            st.tuples(
                st.integers(0, 5000),
                st.sampled_from(["insert", "replace", "delete", "truncate"]),
                st.one_of(PDF_TOKENS, st.binary(min_size=1, max_size=8)),
            ),
            max_size=4,
        ),
    ),
    st.lists(PDF_TOKENS, max_size=40).map(lambda tokens: b"%PDF-1.4\n" + b" ".join(tokens)),
)


@PROPERTY_SETTINGS
@given(data=PDF_BODIES)
@example(data=SEED_PDFS["blank"])
@example(data=SEED_PDFS["javascript"])
@example(data=SEED_PDFS["encrypted"])
def test_pdf_inspection(data):
    """Any bytes: accepted as an inert PDF, or refused with a French 415 — never another exception."""
    try:
        check_pdf_inert(data)
    except UnsupportedFileType as exc:
        assert exc.message.startswith("PDF refusé"), exc.message
        assert_french(exc.message)


@PROPERTY_SETTINGS
@given(data=st.one_of(PDF_BODIES, st.binary(max_size=64).map(lambda tail: b"\x89PNG\r\n\x1a\n" + tail)))
def test_sniff_content_type(data):
    try:
        mime = sniff_content_type(data)
    except UnsupportedFileType as exc:
        assert_french(exc.message)
    else:
        assert mime in {"application/pdf", "image/jpeg", "image/png"} or mime.startswith(("audio/", "video/"))


@PROPERTY_SETTINGS
@given(messages=st.one_of(TEXT, st.lists(TEXT, max_size=3), st.dictionaries(TEXT, st.lists(TEXT, max_size=2))))
def test_validation_error_dict(messages):
    """The API's mapping of a service's ValidationError: always `{field: [messages]}`."""
    result = validation_error_dict(ValidationError(messages))
    assert all(isinstance(key, str) and isinstance(value, list) for key, value in result.items())
