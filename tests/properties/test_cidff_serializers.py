"""The evaluation's API input shapes (cidff.serializers) and the checks the services make on what they let through."""

import datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from cidff.eligibility import eligibility_check
from cidff.instruments import ANSWERS, compute_score, parse_definition
from cidff.serializers import (
    AddendumSerializer,
    CommentSerializer,
    EligibilitySerializer,
    EvaluationCreateSerializer,
    EvaluationUpdateSerializer,
    InterviewSerializer,
)
from cidff.services import _validate_answers
from referrals.models import Relationship
from tests.properties.strategies import (
    ANYTHING,
    JSON,
    PROPERTY_SETTINGS,
    SHORT_TEXT,
    TEXT,
    as_query_dict,
    check_django_error,
    check_serializer,
    choose,
    drf_bodies,
)

DEFINITION = parse_definition((Path(__file__).parents[2] / "cidff/instruments/grille-vigie-v1.yaml").read_text())
ITEM_CODES = [item["code"] for section in DEFINITION["sections"] for item in section["items"]]
LEVEL_CODES = [level["code"] for level in DEFINITION["levels"]]

# answers as the grid posts them ({code: {answer, comment}} or {code: answer}), and as anything else
ANSWER = choose(
    st.sampled_from(ANSWERS),
    st.fixed_dictionaries({"answer": st.sampled_from(ANSWERS)}, optional={"comment": choose(TEXT, ANYTHING)}),
    ANYTHING,
)
ANSWER_MAPS = choose(
    st.dictionaries(st.sampled_from(ITEM_CODES), ANSWER, max_size=len(ITEM_CODES)),
    st.dictionaries(st.sampled_from(ITEM_CODES), ANSWER, max_size=4),
    st.dictionaries(choose(SHORT_TEXT, st.sampled_from(ITEM_CODES)), ANSWER, max_size=4),
)
UPDATE_BODIES = drf_bodies(
    EvaluationUpdateSerializer(),
    overrides={"answers": ANSWER_MAPS, "judgement": choose(st.sampled_from(LEVEL_CODES), SHORT_TEXT, ANYTHING)},
)


@PROPERTY_SETTINGS
@given(body=drf_bodies(EligibilitySerializer()), relationship=st.sampled_from([*Relationship.values, "", "autre"]))
@example(body={"legal_basis": "imminent_danger", "ban_expiry": "0001-01-01"}, relationship="spouse")
@example(body={"legal_basis": "contact_ban", "ban_expiry": "9999-12-31"}, relationship="spouse")
def test_eligibility(body, relationship):
    """The eligibility part; what passes is what `eligibility_check` reads on the next page load."""
    serializer = check_serializer(EligibilitySerializer, body)
    if serializer.is_valid():
        blocks, warnings = eligibility_check(
            serializer.validated_data, relationship=relationship, today=timezone.localdate()
        )
        assert all(isinstance(message, str) for message in blocks + warnings)


@PROPERTY_SETTINGS
@given(body=drf_bodies(InterviewSerializer()))
def test_interview(body):
    serializer = check_serializer(InterviewSerializer, body)
    if serializer.is_valid():
        for day in serializer.validated_data.get("dates", []):
            datetime.date.fromisoformat(day)


@PROPERTY_SETTINGS
@given(body=drf_bodies(EvaluationCreateSerializer()), multipart=st.booleans())
def test_evaluation_create(body, multipart):
    check_serializer(EvaluationCreateSerializer, as_query_dict(body) if multipart else body)


@PROPERTY_SETTINGS
@given(body=UPDATE_BODIES)
@example(body={"answers": {"V01": {"answer": "yes", "comment": "x" * 2001}}})
@example(body={"answers": {"V01": "peut-être"}, "recommendation": ["tgd"] * 20})
def test_evaluation_update(body):
    """PATCH /evaluations/{id}/: then the answers go through the service's own check (`_validate_answers`)."""
    serializer = check_serializer(EvaluationUpdateSerializer, body)
    if serializer.is_valid() and "answers" in serializer.validated_data:
        try:
            clean = _validate_answers(DEFINITION, serializer.validated_data["answers"])
        except ValidationError as exc:
            check_django_error(exc, fields={"answers"})
        else:
            compute_score(DEFINITION, clean)


@PROPERTY_SETTINGS
@given(answers=choose(ANSWER_MAPS, JSON.filter(lambda value: isinstance(value, dict))))
def test_validate_answers(answers):
    """The service's check of the grid's answers (cidff.services._validate_answers), then the score."""
    try:
        clean = _validate_answers(DEFINITION, answers)
    except ValidationError as exc:
        check_django_error(exc, fields={"answers"})
        return
    assert set(clean) <= set(ITEM_CODES)
    assert all(value["answer"] in ANSWERS and len(value["comment"]) <= 2000 for value in clean.values())
    score = compute_score(DEFINITION, clean)
    assert score.level in LEVEL_CODES


@PROPERTY_SETTINGS
@given(body=drf_bodies(CommentSerializer()), multipart=st.booleans())
def test_comment(body, multipart):
    check_serializer(CommentSerializer, as_query_dict(body) if multipart else body)


@PROPERTY_SETTINGS
@given(body=drf_bodies(AddendumSerializer()), multipart=st.booleans())
def test_addendum(body, multipart):
    check_serializer(AddendumSerializer, as_query_dict(body) if multipart else body)
