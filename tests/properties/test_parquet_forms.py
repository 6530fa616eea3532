"""The parquet and phone stage's web forms (parquet.forms): accepted or refused in French, never a 500."""

from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from hypothesis import example, given
from hypothesis import strategies as st

from parquet.forms import (
    AlertForm,
    DecisionForm,
    DeviceCreateForm,
    DeviceFilterForm,
    DeviceStatusForm,
    EmptyForm,
    FollowUpForm,
    HandoverForm,
    ReturnForm,
    WithdrawalForm,
)
from parquet.models import Device, DeviceStatus, Outcome
from parquet.services import _check_decision_input
from referrals.models import ReferralDocument
from tests.properties.strategies import (
    FORM_JUNK,
    PLAUSIBLE_DATES,
    PROPERTY_SETTINGS,
    SHORT_TEXT,
    as_post,
    check_django_error,
    check_form,
    form_bodies,
)


def _decision_fields():
    """Every field the form may have (it drops the ones the outcomes offered do not need)."""
    form = DecisionForm(
        outcomes=Outcome.values,
        evaluation=SimpleNamespace(pk=1),
        referral=SimpleNamespace(author_release_date=None),
    )
    return form.fields


@PROPERTY_SETTINGS
@given(
    body=form_bodies(_decision_fields()),
    outcomes=st.lists(st.sampled_from(Outcome.values), min_size=1, unique=True),
    release=st.one_of(st.none(), PLAUSIBLE_DATES),
)
@example(body={"evaluation": "1", "outcome": "granted", "duration_months": "7"}, outcomes=["granted"], release=None)
@example(body={"evaluation": "9" * 5000, "outcome": "refused"}, outcomes=["refused"], release=None)
def test_decision_form(body, outcomes, release):
    """The prosecutor's decision; once valid, the service's arguments and its own check of them."""
    referral = SimpleNamespace(author_release_date=release)
    form = DecisionForm(as_post(body, {})[0], outcomes=outcomes, evaluation=SimpleNamespace(pk=1), referral=referral)
    if not check_form(form):
        return
    arguments = form.service_arguments()
    assert arguments["outcome"] in outcomes
    form.service_field("reasoning")
    try:
        _check_decision_input(
            outcome=arguments["outcome"],
            reasoning=arguments["reasoning"],
            duration_months=arguments["duration_months"],
            reserved_until=arguments["reserved_until"],
            referral=referral,
        )
    except ValidationError as exc:
        check_django_error(exc, fields=set(form.fields) | {"reasoning"})


@PROPERTY_SETTINGS
@given(body=form_bodies(DeviceCreateForm.base_fields))
def test_device_create_form(body):
    form = DeviceCreateForm(as_post(body, {})[0])
    if check_form(form):
        assert len(form.cleaned_data["serial"]) <= Device._meta.get_field("serial").max_length


@PROPERTY_SETTINGS
@given(body=form_bodies(DeviceStatusForm.base_fields))
def test_device_status_form(body):
    check_form(DeviceStatusForm(as_post(body, {})[0]))


@PROPERTY_SETTINGS
@given(
    body=form_bodies({"etat": DeviceFilterForm(counts={}).fields["etat"]}),
    counts=st.dictionaries(st.sampled_from(DeviceStatus.values), st.integers(0, 10**6)),
)
def test_device_filter_form(body, counts):
    check_form(DeviceFilterForm(as_post(body, {})[0], counts=counts))


@pytest.fixture
def handover(users, stock):
    """A coordinator of CIDFF 92 Sud and what the form reads of the dossier (its pieces)."""
    return SimpleNamespace(
        user=users["coord_sud"],
        referral=SimpleNamespace(documents=ReferralDocument.objects.all()),
        pools={
            "device": [str(pk) for pk in Device.objects.order_by("pk").values_list("pk", flat=True)],
            "agreement": [str(pk) for pk in ReferralDocument.objects.values_list("pk", flat=True)],
        },
    )


@PROPERTY_SETTINGS
@given(body=form_bodies(HandoverForm.base_fields))
def test_handover_form(handover, body):
    form = HandoverForm(as_post(body, handover.pools)[0], user=handover.user, referral=handover.referral)
    if check_form(form):
        assert form.cleaned_data["device"].status == DeviceStatus.IN_STOCK
        assert form.cleaned_data["consent"] is True


@PROPERTY_SETTINGS
@given(body=form_bodies(WithdrawalForm.base_fields))
def test_withdrawal_form(body):
    check_form(WithdrawalForm(as_post(body, {})[0]))


@PROPERTY_SETTINGS
@given(body=st.dictionaries(SHORT_TEXT, FORM_JUNK, max_size=3))
def test_empty_form(body):
    assert check_form(EmptyForm(as_post(body, {})[0]))


@PROPERTY_SETTINGS
@given(body=form_bodies(ReturnForm.base_fields))
def test_return_form(body):
    check_form(ReturnForm(as_post(body, {})[0]))


@PROPERTY_SETTINGS
@given(body=form_bodies(FollowUpForm.base_fields))
def test_follow_up_form(body):
    check_form(FollowUpForm(as_post(body, {})[0]))


@PROPERTY_SETTINGS
@given(body=form_bodies(AlertForm.base_fields, prefix="alerte"))
@example(body={"alerte-occurred_at": "0001-01-01T00:00", "alerte-kind": "real_alert"})
@example(body={"alerte-occurred_at": "9999-12-31T23:59", "alerte-kind": "real_alert"})
@example(body={"alerte-occurred_at": "2026-10-25T02:30", "alerte-kind": "real_alert"})  # the repeated autumn hour
@example(body={"alerte-occurred_at": "2026-03-29T02:30", "alerte-kind": "real_alert"})  # the skipped spring hour
def test_alert_form(body):
    """The operator's alert (a Paris wall time); once valid, an aware instant the service can compare."""
    form = AlertForm(as_post(body, {})[0], prefix="alerte")
    if check_form(form):
        occurred_at = form.cleaned_data["occurred_at"]
        assert timezone.is_aware(occurred_at)
        occurred_at.date()
