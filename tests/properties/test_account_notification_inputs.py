"""The token request's shape (accounts.serializers) and the notification preferences (body and service check)."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from accounts.serializers import TokenRequestSerializer
from notifications.api import NotificationPreferencesUpdateSerializer
from notifications.models import NotificationKind, NotificationPreference
from notifications.services import notification_preferences_set
from tests.properties.strategies import (
    ANYTHING,
    PROPERTY_SETTINGS,
    SHORT_TEXT,
    as_query_dict,
    check_django_error,
    check_serializer,
    choose,
    drf_bodies,
)


@PROPERTY_SETTINGS
@given(body=drf_bodies(TokenRequestSerializer()), multipart=st.booleans())
def test_token_request(body, multipart):
    """POST /token/ (shape only: the credentials themselves are the authentication's business)."""
    check_serializer(TokenRequestSerializer, as_query_dict(body) if multipart else body)


KINDS = st.sampled_from(NotificationKind.values)
EMAILS = choose(
    st.dictionaries(KINDS, st.booleans(), max_size=4),
    st.dictionaries(choose(KINDS, SHORT_TEXT), choose(st.booleans(), ANYTHING), max_size=4),
    ANYTHING,
)


@PROPERTY_SETTINGS
@given(body=drf_bodies(NotificationPreferencesUpdateSerializer(), overrides={"emails": EMAILS}))
def test_notification_preferences_body(body):
    check_serializer(NotificationPreferencesUpdateSerializer, body)


@pytest.fixture
def coordinator(users):
    return users["coord_sud"]


@PROPERTY_SETTINGS
@given(emails=EMAILS)
def test_notification_preferences_set(coordinator, emails):
    """PUT /notifications/preferences/: saved whole, or refused in French with nothing saved."""
    before = list(NotificationPreference.objects.filter(user=coordinator).values_list("kind", "email"))
    try:
        notification_preferences_set(user=coordinator, emails=emails)
    except ValidationError as exc:
        check_django_error(exc, fields={"emails"})
        after = list(NotificationPreference.objects.filter(user=coordinator).values_list("kind", "email"))
        assert sorted(after) == sorted(before)
