"""What the property tests feed and what they check.

Inputs: every value a client can send (what `core.parsers.JSONParser` or a form body can produce: text with
control characters, very long text, huge or negative numbers, floats, NaN-like strings, nulls, lists, nested
objects, impossible dates), and structurally valid bodies built from a serializer's or a form's own fields, so
that validation goes past the first type check.

Checks: validation only ever fails with the expected error type, keyed by field names, in French, and what the
API would answer (the 400 body) can be rendered.
"""

import datetime
import json
import re
from dataclasses import dataclass
from pathlib import Path

import django
import rest_framework
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from rest_framework import fields as drf
from rest_framework import relations, serializers
from rest_framework.exceptions import ErrorDetail
from rest_framework.renderers import JSONRenderer

PROPERTY_SETTINGS = settings(
    max_examples=1000,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# --- scalars --------------------------------------------------------------------------------------------------

CONTROL = "".join(map(chr, [*range(0, 32), 127, 0x85, 0x200B, 0x200E, 0x2028, 0x2029, 0xFEFF]))
SHORT_TEXT = st.text(max_size=20)
TEXT = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.sampled_from(CONTROL + "aé😀 -'\"\\<>&%{}"), max_size=20),
    # very long texts, built by repetition (Hypothesis does not draw megabytes)
    st.builds(lambda chunk, times: chunk * times, st.text(min_size=1, max_size=4), st.integers(20, 25_000)),
    st.sampled_from(["", " ", "\x00", "null", "None", "true", "[]", "{}", "<script>", "Robert'); DROP TABLE--"]),
)
NUMBER_STRINGS = st.one_of(
    st.sampled_from(["NaN", "nan", "Infinity", "-Infinity", "inf", "1e400", "-0", "0x1f", "1_000", "١٢", "³", "1.5"]),
    st.sampled_from([" 12 ", "12abc", "2147483648", "-2147483649", "9223372036854775808", "-9223372036854775809"]),
    st.sampled_from([30, 4299, 5000]).map(lambda digits: "9" * digits),  # past 4300 digits, int() refuses
)
INTEGERS = st.one_of(
    st.integers(-1000, 1000),
    st.integers(-(10**40), 10**40),
    st.sampled_from([2**15, 2**31, -(2**31) - 1, 2**63, -(2**63) - 1]),
    st.sampled_from([1, -1]).map(lambda sign: sign * 10**4000),  # the JSON parser reads up to 4300 digits
)
FLOATS = st.floats(allow_nan=False, allow_infinity=False)  # the JSON parser refuses NaN and infinities


def _date_text(year, month, day):
    return f"{year:04d}-{month:02d}-{day:02d}"


IMPOSSIBLE_DATES = st.sampled_from(
    ["0000-01-01", "0001-01-01", "9999-12-31", "2026-02-30", "2025-02-29", "2026-13-01", "2026-00-10", "10000-01-01"]
    + ["-0001-01-01", "2026-1-1", "20260101", "2026-W01-1", "2026-001", "31/12/9999", "30/02/2026", "00/00/0000"]
    + ["29/02/2023", "01/01/0001", "2026-01-01T00:00", "2026-01-01 ", " 2026-01-01", "２０２６-01-01", "0999-01-01"]
)
DATE_TEXT = st.one_of(
    st.dates().map(datetime.date.isoformat),
    st.builds(_date_text, st.integers(0, 12000), st.integers(0, 13), st.integers(0, 32)),
    IMPOSSIBLE_DATES,
)
DATETIME_TEXT = st.one_of(
    st.datetimes().map(lambda moment: moment.isoformat(timespec="minutes")),
    st.datetimes(timezones=st.timezones()).map(datetime.datetime.isoformat),
    st.builds(
        lambda day, hour, minute, zone: f"{day}T{hour:02d}:{minute:02d}{zone}",
        DATE_TEXT,
        st.integers(0, 25),
        st.integers(0, 61),
        st.sampled_from(["", "Z", "+01:00", "+23:59", "-23:59", "+24:00", "+99:99", "+14:00"]),
    ),
    st.sampled_from(["0001-01-01T00:00", "0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"]),
    st.sampled_from(["9999-12-31T23:59", "2026-03-29T02:30", "2026-10-25T02:30", "2026-10-25 02:30", "T", ""]),
)
SCALARS = st.one_of(st.none(), st.booleans(), INTEGERS, FLOATS, TEXT, NUMBER_STRINGS, DATE_TEXT)
# JSON values two levels deep, built without `st.recursive` (three times slower to draw): deeper nesting is the
# parser's business (tests/properties/test_core.py).
_LEAVES = st.one_of(st.none(), st.booleans(), INTEGERS, FLOATS, SHORT_TEXT, DATE_TEXT)
_ONE_LEVEL = st.one_of(st.lists(_LEAVES, max_size=3), st.dictionaries(SHORT_TEXT, _LEAVES, max_size=3))
_TWO_LEVELS = st.one_of(st.lists(_ONE_LEVEL, max_size=2), st.dictionaries(SHORT_TEXT, _ONE_LEVEL, max_size=2))


def choose(*options):
    """One of the strategies, each as likely as its number of mentions (`st.one_of` flattens nested `one_of`s, so
    a strategy made of many alternatives — anything at all — would otherwise be drawn most of the time)."""
    return st.sampled_from(options).flatmap(lambda strategy: strategy)


JSON = choose(_LEAVES, _ONE_LEVEL, _ONE_LEVEL, _TWO_LEVELS)
ANYTHING = choose(SCALARS, JSON)
# Form bodies are text only (a field may be posted several times).
FORM_JUNK = st.one_of(TEXT, NUMBER_STRINGS, DATE_TEXT, DATETIME_TEXT)


@dataclass(frozen=True)
class Pick:
    """A valid choice that needs the database (a model's id): resolved once the test's fixtures exist."""

    pool: str
    index: int


def picks(pool: str):
    return st.builds(Pick, st.just(pool), st.integers(0, 50))


def resolve(value, pools: dict):
    """Replace every Pick by a real value of its pool (`pools[name]`: a list of valid values)."""
    if isinstance(value, Pick):
        pool = pools[value.pool]
        return pool[value.index % len(pool)] if pool else ""  # nothing to choose from: the field left blank
    if isinstance(value, dict):
        return {key: resolve(item, pools) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, pools) for item in value]
    return value


def _mostly(valid, *junk):
    """Valid values three times out of four: deep validation gets exercised, junk still comes in."""
    return choose(valid, valid, valid, *junk) if junk else valid


# --- DRF serializers --------------------------------------------------------------------------------------------


# Addresses built cheaply (Hypothesis' own `emails()` draws whole domain names: slow for a thousand examples).
EMAILS = st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._+-", min_size=1, max_size=20),
    st.sampled_from(["vigie.test", "cidff92.fr", "justice.gouv.fr", "exemple.org", "xn--exmple-cua.fr"]),
)
ODD_EMAILS = st.sampled_from(
    ["a@b.c", "é@exemple.fr", "a@é.fr", "a..b@c.fr", ".a@b.fr", "a@b..fr", "a@[127.0.0.1]", "a@-b.fr", "@b.fr", "a@"]
    + ['"a b"@c.fr', "a@b.fr\n", "a\x00@b.fr", "a@" + "b" * 64 + ".fr", "a" * 65 + "@b.fr", "a@b.fr@c.fr"]
)
PLAIN_TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs", "Cc")), max_size=30)
PLAUSIBLE_DATES = st.dates(datetime.date(1900, 1, 1), datetime.date(2100, 12, 31))


def drf_field_values(field, *, strict=False):
    """Values for one DRF field. Strict: well-formed and within limits (the body goes deep into validation);
    otherwise mostly of the field's type, at and past its limits, and sometimes anything at all."""
    if isinstance(field, serializers.ListSerializer):
        child = drf_bodies(field.child, strict=strict)
        cap = field.max_length or 5
        valid = st.lists(child, max_size=min(cap, 3))
        if not strict:
            valid = st.one_of(valid, st.builds(lambda item: [item] * (cap + 1), child))  # one past the maximum
    elif isinstance(field, serializers.Serializer):
        valid = drf_bodies(field, strict=strict)
    elif isinstance(field, relations.PrimaryKeyRelatedField):
        valid = picks(field.field_name)
        if not strict:
            valid = st.one_of(valid, st.integers(-5, 10**6), st.sampled_from([2**31, 2**63, 10**40]))
    elif isinstance(field, drf.ChoiceField):  # MultipleChoiceField included
        valid = st.sampled_from(sorted(field.choices) + ([""] if field.allow_blank else []))
        if not strict:
            valid = st.one_of(valid, valid.map(str.upper), valid.map(lambda v: f" {v} "))
    elif isinstance(field, drf.EmailField):
        valid = EMAILS
        if not strict:
            valid = st.one_of(valid, EMAILS.map(lambda e: "x" * 120 + e), st.just(""), st.just("a@b"), ODD_EMAILS)
    elif isinstance(field, drf.RegexField):
        (validator,) = [v for v in field.validators if hasattr(v, "regex")]
        valid = st.from_regex(validator.regex, fullmatch=True)
        if not strict:
            valid = st.one_of(valid, SHORT_TEXT)
    elif isinstance(field, drf.CharField):
        limit = field.max_length or 200
        valid = PLAIN_TEXT.filter(lambda text: field.allow_blank or text.strip())
        if not strict:
            valid = st.one_of(
                st.text(max_size=30),
                st.builds(lambda c, extra: c * (limit + extra), st.characters(), st.sampled_from([-1, 0, 1])),
            )
    elif isinstance(field, drf.BooleanField):
        valid = st.booleans()
        if not strict:
            valid = st.one_of(valid, st.sampled_from(["true", "false", "1", "0", "oui", "non", "on", "", "yes"]))
    elif isinstance(field, drf.DateTimeField):
        valid = st.datetimes(datetime.datetime(2000, 1, 1), datetime.datetime(2100, 1, 1)).map(
            lambda moment: moment.isoformat(timespec="minutes")
        )
        if not strict:
            valid = st.one_of(valid, DATETIME_TEXT)
    elif isinstance(field, drf.DateField):
        valid = PLAUSIBLE_DATES.map(datetime.date.isoformat)
        if not strict:
            valid = st.one_of(valid, DATE_TEXT)
    elif isinstance(field, drf.IntegerField):
        valid = st.integers(-5, 10**6)
        if not strict:
            valid = st.one_of(INTEGERS, INTEGERS.map(str), st.sampled_from([1.0, 1.5, -0.0, 1e20, True, False]))
    elif isinstance(field, drf.ListField):
        child = drf_field_values(field.child, strict=strict)
        cap = field.max_length or 5
        valid = st.lists(child, max_size=min(cap, 4))
        if not strict:
            valid = st.one_of(valid, st.builds(lambda item: [item] * (cap + 1), child))
    elif isinstance(field, drf.DictField):
        valid = st.dictionaries(SHORT_TEXT, drf_field_values(field.child, strict=strict), max_size=4)
    elif isinstance(field, drf.JSONField):
        valid = JSON
    elif isinstance(field, drf.FileField):
        valid = uploads(empty=not strict)
    else:  # pragma: no cover - a new field type: give it anything until it has its own strategy
        valid = ANYTHING
    if field.allow_null:
        valid = st.one_of(st.none(), valid)
    return valid if strict else _mostly(valid, ANYTHING)


def drf_bodies(serializer, *, strict=False, overrides=None):
    """Bodies shaped like the serializer. Strict: well-formed values, required fields present. Otherwise also
    bodies with junk in some fields, required fields missing, an unknown key, or anything at all."""
    overrides = overrides or {}
    fields = {name: field for name, field in serializer.fields.items() if not field.read_only}
    required = [name for name, field in fields.items() if field.required]

    def values(name, field, strict):
        return overrides[name] if name in overrides else drf_field_values(field, strict=strict)

    well_formed = st.fixed_dictionaries(
        {name: values(name, fields[name], True) for name in required},
        optional={name: values(name, field, True) for name, field in fields.items() if name not in required},
    )
    if strict:
        return well_formed
    mixed = st.fixed_dictionaries(
        {name: values(name, fields[name], False) for name in required},
        optional={name: values(name, field, False) for name, field in fields.items() if name not in required},
    )
    shaped = st.fixed_dictionaries(
        {}, optional={**{name: values(name, field, False) for name, field in fields.items()}, "champ_inconnu": ANYTHING}
    )
    return choose(well_formed, well_formed, well_formed, mixed, mixed, mixed, shaped, ANYTHING)


def uploads(*, empty=True):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return st.builds(
        SimpleUploadedFile,
        name=st.one_of(st.just("piece.pdf"), st.text(max_size=300).map(lambda name: name.replace("/", "_") + ".x")),
        content=st.one_of(st.binary(min_size=0 if empty else 1, max_size=200), st.just(b"%PDF-1.7\n%%EOF")),
        content_type=st.sampled_from(["application/pdf", "image/png", "text/plain", ""]),
    )


def as_query_dict(body):
    """The same body posted as a form (multipart): flat text values, lists become repeated keys."""
    data = MultiValueDict()
    if not isinstance(body, dict):
        return data
    for key, value in body.items():
        items = value if isinstance(value, list) else [value]
        data.setlist(key, ["" if item is None else item if hasattr(item, "read") else str(item) for item in items])
    return data


# --- checks ---------------------------------------------------------------------------------------------------


def _english_patterns():
    """Full-match patterns of the English messages of Django and DRF (placeholders match anything)."""
    sources = []
    drf_root = Path(rest_framework.__file__).parent
    for name in ("fields.py", "validators.py", "serializers.py", "relations.py", "exceptions.py", "parsers.py"):
        text = (drf_root / name).read_text()
        sources += re.findall(r"_\(\s*'((?:[^'\\]|\\.)*)'\s*\)", text)
        sources += re.findall(r'_\(\s*"((?:[^"\\]|\\.)*)"\s*\)', text)
    django_root = Path(django.__file__).parent
    for po in (
        django_root / "conf/locale/en/LC_MESSAGES/django.po",
        django_root / "contrib/auth/locale/en/LC_MESSAGES/django.po",
    ):
        sources += [
            "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block))
            for block in re.findall(r'^msgid ((?:".*"\n)+)', po.read_text(), flags=re.MULTILINE)
        ]
    patterns = []
    for message in {s.replace("\\'", "'").replace('\\"', '"') for s in sources}:
        literal = re.sub(r"%\(\w+\)[sdr]|%[sd]|\{[^{}]*\}", "\0", message)
        if len(re.findall(r"[A-Za-z]{3,}", literal)) < 2:
            continue  # too short to tell a language
        parts = [re.escape(part) for part in literal.split("\0")]
        patterns.append(".*".join(parts))
    return re.compile("|".join(f"(?:{p})" for p in sorted(patterns)), re.DOTALL)


ENGLISH = _english_patterns()


def assert_french(message: str) -> None:
    assert isinstance(message, str), message
    assert message.strip(), "message vide"
    # a long echo of the input (a refused choice…) is cut in its middle: the words around it tell the language
    text = message if len(message) <= 600 else message[:300] + message[-300:]
    assert not ENGLISH.fullmatch(text), f"message en anglais : {message[:300]!r}"


def _messages(errors):
    if isinstance(errors, dict):
        for value in errors.values():
            yield from _messages(value)
    elif isinstance(errors, list | tuple):
        for value in errors:
            yield from _messages(value)
    else:
        yield errors


def check_serializer(serializer_class, data, *, extra_keys=(), **kwargs):
    """Validate `data`; only a 400 in French may come out. Returns the serializer (valid or not)."""
    serializer = serializer_class(data=data, **kwargs)
    valid = serializer.is_valid()  # any exception but DRF's ValidationError escapes here and fails the test
    event("valide" if valid else "refusé")
    if valid:
        # validated data are stored as JSON in encrypted fields: UTF-8 text and finite numbers only
        json.dumps(serializer.validated_data, default=str, ensure_ascii=False, allow_nan=False).encode()
        return serializer
    errors = serializer.errors
    assert errors, "invalide sans erreur"
    fields = set(serializer.fields) if not kwargs.get("many") else set()
    if isinstance(errors, dict) and fields:
        allowed = fields | {"non_field_errors"} | (set(data) if isinstance(data, dict) else set()) | set(extra_keys)
        assert set(errors) <= allowed, set(errors) - allowed
    for message in _messages(errors):
        assert isinstance(message, ErrorDetail), message
        assert_french(str(message))
    JSONRenderer().render(errors)  # what the client reads: the 400 body must be renderable
    return serializer


def check_django_error(exc: DjangoValidationError, *, fields=None) -> None:
    if fields is not None and hasattr(exc, "error_dict"):
        assert set(exc.error_dict) <= set(fields) | {"__all__"}, set(exc.error_dict) - set(fields)
    for message in exc.messages:
        assert_french(message)
    JSONRenderer().render(exc.messages)


def check_form(form) -> bool:
    """`form.is_valid()`; errors only on the form's own fields, in French. Returns validity."""
    valid = form.is_valid()
    event("valide" if valid else "refusé")
    if not valid:
        assert form.errors, "invalide sans erreur"
        for name, errors in form.errors.as_data().items():
            assert name == forms.forms.NON_FIELD_ERRORS or name in form.fields, name
            for error in errors:
                for message in error.messages:
                    assert_french(message)
    return valid


# --- Django forms -------------------------------------------------------------------------------------------------


def _integer_bounds(field):
    low = -1000 if field.min_value is None else field.min_value
    high = 10**6 if field.max_value is None else field.max_value
    return low, high


def form_field_values(field, name="", *, strict=False):
    """Posted values for one Django form field: text always (a list for multiple choices); the valid choices of a
    model field come from the pool named after the field (see `resolve`). Strict: well-formed values only."""
    if isinstance(field, forms.ModelMultipleChoiceField):
        valid = st.lists(picks(name), max_size=3)
        if strict:
            return valid
        return _mostly(
            st.lists(st.one_of(picks(name), st.sampled_from(["0", "-1", "abc", "9" * 25])), max_size=3),
            FORM_JUNK.map(lambda v: [v]),
        )
    if isinstance(field, forms.ModelChoiceField):
        valid = picks(name)
        if not strict:
            valid = st.one_of(valid, st.sampled_from(["", "0", "-1", "1.5", "abc", "9" * 25, "9" * 5000]))
    elif isinstance(field, forms.MultipleChoiceField):
        choices = [str(key) for key, _ in field.choices]
        valid = st.lists(st.sampled_from(choices), max_size=4)
        return valid if strict else _mostly(valid, st.lists(FORM_JUNK, max_size=3))
    elif isinstance(field, forms.ChoiceField):  # TypedChoiceField included
        valid = st.sampled_from([str(key) for key, _ in field.choices] or [""])
    elif isinstance(field, forms.BooleanField):
        valid = st.sampled_from(["on", "true", "True", "1", "false", "False", "0", "", "off"])
        if strict:
            valid = st.sampled_from(["on", ""])
    elif isinstance(field, forms.DateTimeField):
        valid = st.datetimes(datetime.datetime(2000, 1, 1), datetime.datetime(2100, 1, 1)).map(
            lambda moment: moment.strftime("%Y-%m-%dT%H:%M")
        )
        if not strict:
            valid = st.one_of(
                valid,
                DATETIME_TEXT,
                st.datetimes().map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M")),
                st.datetimes().map(lambda moment: moment.strftime("%d/%m/%Y %H:%M")),
            )
    elif isinstance(field, forms.DateField):
        valid = st.one_of(
            PLAUSIBLE_DATES.map(datetime.date.isoformat), PLAUSIBLE_DATES.map(lambda day: day.strftime("%d/%m/%Y"))
        )
        if not strict:
            valid = st.one_of(valid, DATE_TEXT, st.dates().map(lambda day: day.strftime("%d/%m/%Y")))
    elif isinstance(field, forms.IntegerField):
        valid = st.integers(*_integer_bounds(field)).map(str)
        if not strict:
            valid = st.one_of(valid, INTEGERS.filter(lambda n: abs(n) < 10**4000).map(str), NUMBER_STRINGS)
    elif isinstance(field, forms.EmailField):
        valid = EMAILS
        if not strict:
            valid = st.one_of(valid, st.just(""), st.just("a@b"), EMAILS.map(lambda e: "x" * 300 + e), ODD_EMAILS)
    elif isinstance(field, forms.RegexField):
        valid = st.from_regex(field.regex, fullmatch=True)
        if not strict:
            valid = st.one_of(valid, SHORT_TEXT)
    elif isinstance(field, forms.JSONField):
        valid = JSON.map(json.dumps)
        if not strict:
            valid = choose(
                valid,
                SHORT_TEXT,
                st.sampled_from(['{"a": NaN}', "[Infinity]", "-Infinity", "1e400", "[" * 200, "9" * 5000, "[1, 2"]),
            )
    elif isinstance(field, forms.FileField):
        return uploads(empty=not strict)
    elif isinstance(field, forms.CharField):
        limit = field.max_length or 200
        valid = PLAIN_TEXT.filter(lambda text: len(text) <= limit and (not field.required or text.strip()))
        if not strict:
            valid = st.one_of(
                st.text(max_size=30),
                st.builds(lambda c, extra: c * (limit + extra), st.characters(), st.sampled_from([-1, 0, 1])),
            )
    else:  # pragma: no cover
        valid = FORM_JUNK
    return valid if strict else _mostly(valid, FORM_JUNK)


def form_bodies(fields: dict, *, prefix: str = "", overrides=None):
    """A posted form. Well-formed: every field present with a value of its type (deep validation: `clean()`, the
    model's checks); otherwise each field sometimes missing, sometimes junk."""
    overrides = overrides or {}
    name = (lambda field: f"{prefix}-{field}") if prefix else (lambda field: field)
    well_formed = st.fixed_dictionaries(
        {
            name(key): overrides[key] if key in overrides else form_field_values(field, key, strict=True)
            for key, field in fields.items()
        }
    )
    mixed = st.fixed_dictionaries(
        {},
        optional={
            name(key): overrides[key] if key in overrides else form_field_values(field, key)
            for key, field in fields.items()
        },
    )
    return choose(well_formed, mixed, mixed)


def as_post(body: dict, pools: dict):
    """A body → (data, files) as Django gives them to a form; Picks become real ids."""
    data, files = MultiValueDict(), MultiValueDict()
    for key, value in body.items():
        value = resolve(value, pools)
        if hasattr(value, "read"):
            value.seek(0)
            files[key] = value
            continue
        values = value if isinstance(value, list) else [value]
        data.setlist(key, [str(item) for item in values])
    return data, files
