"""The evaluation forms (cidff.forms) and the instrument definitions supervisors load (cidff.instruments, admin)."""

import copy
import json
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from cidff.admin import InstrumentLoadForm
from cidff.eligibility import eligibility_check
from cidff.forms import INTERVIEW_SLOTS_MAX, AddendumForm, EmptyForm, EvaluationForm, ReturnForm
from cidff.instruments import ANSWERS, compute_score, definition_sha256, parse_definition, validate_definition
from cidff.models import Evaluation, Instrument
from cidff.services import _validate_answers, instrument_conflict, instrument_load
from tests.properties.strategies import (
    FORM_JUNK,
    INTEGERS,
    JSON,
    PLAUSIBLE_DATES,
    PROPERTY_SETTINGS,
    SHORT_TEXT,
    as_post,
    assert_french,
    check_django_error,
    check_form,
    choose,
    form_bodies,
)

SHIPPED = Path(__file__).resolve().parents[2] / "cidff" / "instruments" / "grille-vigie-v1.yaml"
SHIPPED_TEXT = SHIPPED.read_text()
DEFINITION = parse_definition(SHIPPED_TEXT)
ITEM_CODES = [item["code"] for section in DEFINITION["sections"] for item in section["items"]]

# --- the evaluation form ---------------------------------------------------------------------------------------

ITEM_FIELDS = [f"{kind}_{code}" for code in ITEM_CODES for kind in ("answer", "comment")]
GRID = choose(
    st.fixed_dictionaries({f"answer_{code}": st.sampled_from(ANSWERS) for code in ITEM_CODES}),  # a whole grid
    st.dictionaries(st.sampled_from(ITEM_FIELDS), choose(st.sampled_from(ANSWERS), SHORT_TEXT, FORM_JUNK), max_size=6),
)
INTERVIEW_DATES = st.dictionaries(
    st.sampled_from([f"interview_date_{slot}" for slot in range(1, INTERVIEW_SLOTS_MAX + 2)]),
    choose(PLAUSIBLE_DATES.map(lambda day: day.strftime("%d/%m/%Y")), FORM_JUNK),
    max_size=4,
)
EVALUATION_BODIES = st.builds(
    lambda fields, grid, dates: {**fields, **grid, **dates},
    form_bodies(EvaluationForm.base_fields),
    GRID,
    INTERVIEW_DATES,
)


def stored_evaluation(dates: int) -> Evaluation:
    """What the form reads of its evaluation (unsaved: the form never writes)."""
    instrument = Instrument(code=DEFINITION["code"], version=DEFINITION["version"], definition=DEFINITION)
    return Evaluation(
        instrument=instrument,
        interview={"dates": [f"2026-01-{day + 1:02d}" for day in range(dates)], "place": ""},
        answers={},
        eligibility={},
    )


@PROPERTY_SETTINGS
@given(body=EVALUATION_BODIES, dates=st.integers(0, 12))
@example(body={"ban_date": "31/12/9999", "ban_expiry": "01/01/0001", "interview_date_1": "30/02/2026"}, dates=0)
@example(body={"comment_V01": "sans réponse"}, dates=0)
def test_evaluation_form(body, dates):
    """The whole evaluation page; once valid, the `data` the service takes and its own checks on it."""
    form = EvaluationForm(as_post(body, {})[0], evaluation=stored_evaluation(dates))
    valid = check_form(form)
    form.error_summary()
    form.grid()
    if not valid:
        return
    payload = form.payload()
    json.dumps(payload, ensure_ascii=False, allow_nan=False).encode()
    clean = _validate_answers(DEFINITION, payload["answers"])  # the form only offers the grid's answers
    compute_score(DEFINITION, clean)
    eligibility_check(payload["eligibility"], relationship="spouse", today=timezone.localdate())


@PROPERTY_SETTINGS
@given(body=form_bodies(ReturnForm.base_fields))
def test_return_form(body):
    check_form(ReturnForm(as_post(body, {})[0]))


@PROPERTY_SETTINGS
@given(body=form_bodies(AddendumForm.base_fields))
def test_addendum_form(body):
    check_form(AddendumForm(as_post(body, {})[0]))


@PROPERTY_SETTINGS
@given(body=st.dictionaries(SHORT_TEXT, FORM_JUNK, max_size=3))
def test_empty_form(body):
    assert check_form(EmptyForm(as_post(body, {})[0]))


# --- instrument definitions ------------------------------------------------------------------------------------

BASE = yaml.safe_load(SHIPPED_TEXT)
ODD_VALUES = st.sampled_from(
    [float("inf"), float("-inf"), float("nan"), 10**30, 2**31, 2**31 - 1, 0, -1, 1.5, True, None, [], {}, ""]
    + ["a" * 40, "a" * 41, "a" * 201, "abc\n", "V01", "severe", "grille-vigie", "x" * 5000]
)
VALUES = choose(
    ODD_VALUES,
    JSON,
    INTEGERS,
    SHORT_TEXT,
    st.integers(1, 50),
    st.booleans(),
    st.from_regex(r"[a-z0-9][a-z0-9-]{1,12}", fullmatch=True),
)


def _nodes(value, path=()):
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _nodes(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _nodes(child, (*path, index))


# Files are parsed by PyYAML in pure Python: the text-level tests start from a small grid (6 items, 4 levels).
SMALL = yaml.safe_load((Path(__file__).resolve().parents[1] / "cidff" / "data" / "weighted-v1.yaml").read_text())


def _mutated(mutations, base=BASE) -> dict:
    """A grid changed here and there: a value replaced, a key removed, a section or level doubled."""
    definition = copy.deepcopy(base)
    for where, action, value in mutations:
        paths = [path for path in _nodes(definition) if path]
        if not paths:
            break
        *parent_path, key = paths[where % len(paths)]
        parent = definition
        for step in parent_path:
            parent = parent[step]
        if action == "set":
            parent[key] = value
        elif action == "delete":
            del parent[key]
        elif isinstance(parent, list):  # duplicate
            parent.append(copy.deepcopy(parent[key]))
        else:
            parent[f"{key}_bis"] = copy.deepcopy(parent[key])
    return definition


MUTATION = st.tuples(st.integers(0, 10**6), st.sampled_from(["set", "set", "delete", "duplicate"]), VALUES)
MUTATIONS = choose(st.lists(MUTATION, max_size=1), st.lists(MUTATION, max_size=1), st.lists(MUTATION, max_size=3))
DEFINITIONS = choose(
    st.builds(_mutated, MUTATIONS),
    st.builds(_mutated, MUTATIONS).map(lambda d: {**d, "version": 2}),  # a new version: loaded if it is valid
    JSON,
)
SMALL_DEFINITIONS = choose(st.builds(_mutated, MUTATIONS, st.just(SMALL)), JSON)


def _dump(definition, style):
    if style == "json":
        return json.dumps(definition, ensure_ascii=False, default=str)
    return yaml.safe_dump(definition, allow_unicode=True)


YAML_SNIPPETS = st.sampled_from(
    ["code: [unclosed", "- une liste", "a: 2026-02-30", "a: !!timestamp 2026-13-01", "a: !!int 1e400", "a: !!float x"]
    + ["a: !!binary 'x'", "a: !!set {1, 2}", "? [1]\n: 2", "a: !!python/name:os.system", "a: &a [*a]", "\t", "%YAML 9"]
    + ["version: .inf", "version: .nan", "\x00", "a: " + "[" * 40 + "]" * 40, "{" * 50, '"\\0"', '"\\ud800"']
)
# PyYAML scans nested flow collections in quadratic time: the deep ones (RecursionError) are explicit examples only.
DEEP_YAML = "a: " + "[" * 600 + "]" * 600  # past the recursion limit
TEXTS = choose(
    st.builds(_dump, SMALL_DEFINITIONS, st.sampled_from(["yaml", "json", "json"])),
    st.builds(_dump, SMALL_DEFINITIONS, st.sampled_from(["yaml", "json", "json"])),
    st.builds(
        lambda head, snippet: head + "\n" + snippet, st.builds(_dump, SMALL_DEFINITIONS, st.just("yaml")), YAML_SNIPPETS
    ),
    YAML_SNIPPETS,
    st.text(max_size=60),
)


def check_definition_error(exc: ValidationError):
    check_django_error(exc, fields={"definition"})
    for message in exc.messages:
        assert_french(message)
        assert not any(english in message.split(" (")[0] for english in (" is ", " not ", "should")), message


@PROPERTY_SETTINGS
@given(definition=DEFINITIONS)
@example(definition={**BASE, "version": 10**30})
@example(definition={**BASE, "version": 2, "code": "a" * 41})
@example(
    definition={**BASE, "version": 2, "levels": [{**BASE["levels"][0], "min_score": float("nan")}, *BASE["levels"][1:]]}
)
def test_validate_definition(world, definition):
    """Any definition: refused in French, or one the service can store (then loaded, and rolled back)."""
    try:
        normalised = validate_definition(definition)
    except ValidationError as exc:
        check_definition_error(exc)
        return
    json.dumps(normalised, allow_nan=False)
    compute_score(normalised, {})
    if instrument_conflict(normalised):
        return
    with transaction.atomic():  # what instrument_load stores
        instrument, _ = Instrument.objects.get_or_create(
            code=normalised["code"],
            version=normalised["version"],
            defaults={
                "title": normalised["title"],
                "definition": normalised,
                "sha256": definition_sha256(normalised),
            },
        )
        instrument.refresh_from_db()
        transaction.set_rollback(True)


@PROPERTY_SETTINGS
@given(text=TEXTS)
@example(text="a: 2026-02-30")
@example(text=DEEP_YAML)
@example(text=yaml.safe_dump({**SMALL, "code": "a" * 41}))
@example(text=yaml.safe_dump({**SMALL, "version": 10**30}))
@example(text="version: .inf\n" + yaml.safe_dump({key: value for key, value in SMALL.items() if key != "version"}))
@example(text=yaml.safe_dump({**SMALL, "title": "Grille\x00"}))
def test_instrument_load_form(world, text):
    """Admin › grilles › ajouter: the uploaded file is refused in French, or loaded by the service (rolled back)."""
    upload = SimpleUploadedFile("grille.yaml", text.encode("utf-8", errors="surrogatepass"))
    form = InstrumentLoadForm(data={"activate": "on"}, files={"definition_file": upload})
    if not check_form(form):
        return
    with transaction.atomic():
        instrument = instrument_load(text=form.definition_text, activate=True)
        instrument.refresh_from_db()
        transaction.set_rollback(True)


@PROPERTY_SETTINGS
@given(text=TEXTS)
@example(text=DEEP_YAML)
@example(text="{" * 600)
def test_parse_definition(text):
    try:
        parse_definition(text)
    except ValidationError as exc:
        check_definition_error(exc)
