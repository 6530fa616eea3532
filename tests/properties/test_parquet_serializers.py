"""The parquet and phone stage's API input shapes (parquet.serializers), and the decision's own input check."""

from types import SimpleNamespace

from django.core.exceptions import ValidationError
from hypothesis import example, given
from hypothesis import strategies as st

from parquet.serializers import (
    AlertCreateSerializer,
    AttributionCreateSerializer,
    AttributionWithdrawSerializer,
    DecisionCreateSerializer,
    DeviceCreateSerializer,
    DeviceUpdateSerializer,
    FollowUpCreateSerializer,
    ReturnSerializer,
)
from parquet.services import _check_decision_input
from tests.properties.strategies import (
    PLAUSIBLE_DATES,
    PROPERTY_SETTINGS,
    as_query_dict,
    check_django_error,
    check_serializer,
    drf_bodies,
)

MULTIPART = st.booleans()


@PROPERTY_SETTINGS
@given(body=drf_bodies(DecisionCreateSerializer()), multipart=MULTIPART, release=st.one_of(st.none(), PLAUSIBLE_DATES))
@example(body={"evaluation": 1, "outcome": "granted", "duration_months": 10**4000}, multipart=False, release=None)
@example(body={"evaluation": 1, "outcome": "reserved", "reserved_until": "9999-12-31"}, multipart=False, release=None)
def test_decision_create(body, multipart, release):
    """POST /decisions/; what passes then meets the service's own check of the outcome, months and date."""
    serializer = check_serializer(DecisionCreateSerializer, as_query_dict(body) if multipart else body)
    if serializer.is_valid():
        data = dict(serializer.validated_data)
        data.pop("evaluation")
        try:
            _check_decision_input(
                outcome=data["outcome"],
                reasoning=data.get("reasoning", ""),
                duration_months=data.get("duration_months"),
                reserved_until=data.get("reserved_until"),
                referral=SimpleNamespace(author_release_date=release),
            )
        except ValidationError as exc:
            check_django_error(exc, fields=set(DecisionCreateSerializer().fields))


@PROPERTY_SETTINGS
@given(body=drf_bodies(DeviceCreateSerializer()), multipart=MULTIPART)
@example(body={"serial": "IMEI-0000000001\n", "phone_number": "07 00 00 00 01"}, multipart=False)
def test_device_create(body, multipart):
    serializer = check_serializer(DeviceCreateSerializer, as_query_dict(body) if multipart else body)
    if serializer.is_valid():
        assert "\n" not in serializer.validated_data["serial"]


@PROPERTY_SETTINGS
@given(body=drf_bodies(DeviceUpdateSerializer()), multipart=MULTIPART)
def test_device_update(body, multipart):
    check_serializer(DeviceUpdateSerializer, as_query_dict(body) if multipart else body)


@PROPERTY_SETTINGS
@given(body=drf_bodies(AttributionCreateSerializer()), multipart=MULTIPART)
def test_attribution_create(body, multipart):
    check_serializer(AttributionCreateSerializer, as_query_dict(body) if multipart else body)


@PROPERTY_SETTINGS
@given(body=drf_bodies(AttributionWithdrawSerializer()), multipart=MULTIPART)
def test_attribution_withdraw(body, multipart):
    check_serializer(AttributionWithdrawSerializer, as_query_dict(body) if multipart else body)


@PROPERTY_SETTINGS
@given(body=drf_bodies(ReturnSerializer()), multipart=MULTIPART)
def test_return(body, multipart):
    check_serializer(ReturnSerializer, as_query_dict(body) if multipart else body)


@PROPERTY_SETTINGS
@given(body=drf_bodies(AlertCreateSerializer()), multipart=MULTIPART)
@example(body={"attribution": 1, "occurred_at": "0001-01-01T00:00", "kind": "real_alert"}, multipart=False)
@example(body={"attribution": 1, "occurred_at": "9999-12-31T23:59:59-23:59", "kind": "real_alert"}, multipart=False)
@example(body={"attribution": 1, "occurred_at": "2026-03-29T02:30", "kind": "real_alert"}, multipart=False)
def test_alert_create(body, multipart):
    serializer = check_serializer(AlertCreateSerializer, as_query_dict(body) if multipart else body)
    if serializer.is_valid():
        occurred_at = serializer.validated_data["occurred_at"]
        assert occurred_at.utcoffset() is not None
        occurred_at.date()  # what the service compares with the period's start


@PROPERTY_SETTINGS
@given(body=drf_bodies(FollowUpCreateSerializer()), multipart=MULTIPART)
def test_follow_up_create(body, multipart):
    check_serializer(FollowUpCreateSerializer, as_query_dict(body) if multipart else body)
