"""The dossier's API input shapes (referrals.serializers): any body is validated or refused in French, never a 500."""

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from accounts.models import Organisation
from referrals.models import Referral
from referrals.serializers import (
    AssignSerializer,
    AuthorSerializer,
    ChildSerializer,
    CloseSerializer,
    ComplaintSerializer,
    DocumentUploadSerializer,
    MeasureSerializer,
    ReferralWriteSerializer,
    TransferSerializer,
    VictimSerializer,
    WithdrawSerializer,
)
from tests.properties.strategies import PROPERTY_SETTINGS, as_query_dict, check_serializer, drf_bodies, resolve

WRITE_BODIES = drf_bodies(ReferralWriteSerializer())


@pytest.fixture
def pools(world):
    """Every organisation (CIDFF or not, active or not): the valid ones and the refused ones."""
    return {"cidff": list(Organisation.objects.order_by("pk").values_list("pk", flat=True))}


@PROPERTY_SETTINGS
@given(body=WRITE_BODIES, partial=st.booleans(), multipart=st.booleans())
@example(body={"cidff": 2**63, "referrer_function": "police"}, partial=False, multipart=False)
@example(body={"children": [{"birth_date": "2026-02-30"}] * 21}, partial=True, multipart=False)
@example(
    body={"measures": [{"type": "ban", "date": "9999-12-31", "expiry": "0001-01-01"}]}, partial=True, multipart=False
)
def test_referral_write(pools, body, partial, multipart):
    """POST and PATCH /referrals/: the whole signalement, nested parts included (JSON or multipart)."""
    before = Referral.objects.count()
    data = resolve(body, pools)
    check_serializer(ReferralWriteSerializer, as_query_dict(data) if multipart else data, partial=partial)
    assert Referral.objects.count() == before


@PROPERTY_SETTINGS
@given(body=drf_bodies(VictimSerializer()))
def test_victim(body):
    check_serializer(VictimSerializer, body)


@PROPERTY_SETTINGS
@given(body=drf_bodies(AuthorSerializer()))
def test_author(body):
    check_serializer(AuthorSerializer, body)


@PROPERTY_SETTINGS
@given(body=drf_bodies(ChildSerializer()))
def test_child(body):
    check_serializer(ChildSerializer, body)


@PROPERTY_SETTINGS
@given(body=drf_bodies(ComplaintSerializer()))
def test_complaint(body):
    check_serializer(ComplaintSerializer, body)


@PROPERTY_SETTINGS
@given(body=drf_bodies(MeasureSerializer()))
@example(body={"type": "ban", "date": "2026-01-10", "expiry": "2026-01-09"})
def test_measure(body):
    serializer = check_serializer(MeasureSerializer, body)
    if serializer.is_valid():
        data = serializer.validated_data
        assert not (data.get("date") and data.get("expiry") and data["expiry"] < data["date"])


@PROPERTY_SETTINGS
@given(body=drf_bodies(AssignSerializer()), multipart=st.booleans())
def test_assign(body, multipart):
    check_serializer(AssignSerializer, as_query_dict(body) if multipart else body)


@PROPERTY_SETTINGS
@given(body=drf_bodies(TransferSerializer()), multipart=st.booleans())
def test_transfer(body, multipart):
    check_serializer(TransferSerializer, as_query_dict(body) if multipart else body)


@PROPERTY_SETTINGS
@given(body=drf_bodies(WithdrawSerializer()), multipart=st.booleans())
def test_withdraw(body, multipart):
    check_serializer(WithdrawSerializer, as_query_dict(body) if multipart else body)


@PROPERTY_SETTINGS
@given(body=drf_bodies(CloseSerializer()), multipart=st.booleans())
def test_close(body, multipart):
    check_serializer(CloseSerializer, as_query_dict(body) if multipart else body)


@PROPERTY_SETTINGS
@given(body=drf_bodies(DocumentUploadSerializer()), multipart=st.booleans())
def test_document_upload(body, multipart):
    """Multipart in real life; a JSON body can still name a `file` (a text then, refused)."""
    check_serializer(DocumentUploadSerializer, as_query_dict(body) if multipart else body)
