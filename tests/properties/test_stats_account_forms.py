"""The statistics' query parameters (stats.forms), the supervisors' admin forms (accounts.admin) and the sign-in
pages' forms (accounts.forms): refused in French, or values the next step can use, never a 500."""

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from hypothesis import example, given
from hypothesis import strategies as st

from accounts.admin import JurisdictionForm, UserChangeAdminForm, UserCreationAdminForm
from accounts.forms import EmailAuthenticationForm, EmailPasswordResetForm, EnrolmentForm, SecondFactorForm
from accounts.models import Jurisdiction, Organisation, User
from stats.forms import CensusForm, PeriodForm
from stats.selectors import quarter_period
from tests.properties.strategies import (
    DATE_TEXT,
    FORM_JUNK,
    PLAUSIBLE_DATES,
    PROPERTY_SETTINGS,
    as_post,
    check_django_error,
    check_form,
    choose,
    form_bodies,
    form_field_values,
)


@pytest.fixture
def pools(world):
    return {
        "jurisdiction": [str(pk) for pk in Jurisdiction.objects.values_list("pk", flat=True)],
        "organisation": [str(pk) for pk in Organisation.objects.values_list("pk", flat=True)],
        # mostly people of TJ de Nanterre's organisations (the form refuses the others)
        "alert_recipients": [
            str(pk)
            for pk in User.objects.filter(
                Q(organisation__jurisdiction=world.jurisdictions["nanterre"]) | Q(pk=world.users["supervisor"].pk)
            ).values_list("pk", flat=True)
        ],
    }


PERIOD_DATES = choose(PLAUSIBLE_DATES.map(lambda day: day.isoformat()), DATE_TEXT, FORM_JUNK)
PERIOD_BODIES = st.fixed_dictionaries(
    {},
    optional={
        "from": PERIOD_DATES,
        "to": PERIOD_DATES,
        "jurisdiction": form_field_values(PeriodForm.base_fields["jurisdiction"], "jurisdiction"),
    },
)


@PROPERTY_SETTINGS
@given(body=PERIOD_BODIES)
@example(body={"to": "9999-12-31"})
@example(body={"to": "0001-03-15"})
@example(body={"from": "0001-01-01", "to": "0001-01-02"})
def test_period_form(pools, body):
    """?from=&to=&jurisdiction= of the dashboard; once valid, the bounds and months the figures are counted on."""
    form = PeriodForm(as_post(body, pools)[0])
    if check_form(form):
        period = form.cleaned_data["period"]
        assert period.since < period.until
        assert 1 <= len(period.months()) <= 61
        Q(period.q("submitted_at"))


QUARTERS = choose(
    st.builds(
        lambda year, quarter, letter: f"{year}{letter}{quarter}",
        st.integers(1990, 2110),
        st.integers(0, 5),
        st.sampled_from(["Q", "T", "q", "t", " T", "-Q"]),
    ),
    FORM_JUNK,
)


@PROPERTY_SETTINGS
@given(body=form_bodies(CensusForm.base_fields, overrides={"quarter": QUARTERS}))
def test_census_form(pools, body):
    form = CensusForm(as_post(body, pools)[0])
    if check_form(form):
        year, quarter = form.cleaned_data["quarter"]
        quarter_period(year, quarter)
        assert form.cleaned_data["format"] in ("csv", "xlsx")


@PROPERTY_SETTINGS
@given(body=form_bodies(JurisdictionForm.base_fields), existing=st.booleans())
@example(body={"departments": "9" * 5000}, existing=True)
@example(body={"name": "TJ", "departments": '["92", NaN]', "evaluation_days": "5"}, existing=False)
def test_jurisdiction_admin_form(pools, world, body, existing):
    """Admin › juridictions: the convention's delays and its alert recipients."""
    instance = world.jurisdictions["nanterre"] if existing else None
    form = JurisdictionForm(as_post(body, pools)[0], instance=instance)
    if check_form(form):
        with transaction.atomic():  # what the admin does with it
            form.save().refresh_from_db()
            transaction.set_rollback(True)


PASSWORDS = st.text(alphabet="abcdefghijkmnopqrstuvwxyzABCDEFGH0123456789-_!é", min_size=8, max_size=40)
USER_CREATION_BODIES = choose(
    form_bodies(UserCreationAdminForm.base_fields),
    st.builds(
        lambda body, password: {**body, "password1": password, "password2": password},
        form_bodies(UserCreationAdminForm.base_fields),
        PASSWORDS,
    ),
)


@PROPERTY_SETTINGS
@given(body=USER_CREATION_BODIES)
def test_user_creation_admin_form(pools, body):
    """Admin › utilisateurs › ajouter: role and organisation must fit, passwords as strong as the settings say."""
    check_form(UserCreationAdminForm(as_post(body, pools)[0]))


@PROPERTY_SETTINGS
@given(body=form_bodies(UserChangeAdminForm.base_fields))
def test_user_change_admin_form(pools, users, body):
    check_form(UserChangeAdminForm(as_post(body, pools)[0], instance=users["referrer_ccas"]))


@PROPERTY_SETTINGS
@given(value=form_field_values(EmailAuthenticationForm.base_fields["username"]))
def test_sign_in_email_field(value):
    """The sign-in page's e-mail field alone (checking the password is the authentication's business)."""
    field = EmailAuthenticationForm().fields["username"]
    try:
        field.clean(value)
    except ValidationError as exc:
        check_django_error(exc)


@PROPERTY_SETTINGS
@given(body=form_bodies(EmailPasswordResetForm.base_fields))
def test_password_reset_form(body):
    check_form(EmailPasswordResetForm(as_post(body, {})[0]))


@PROPERTY_SETTINGS
@given(body=form_bodies(SecondFactorForm.base_fields))
def test_second_factor_form(body):
    check_form(SecondFactorForm(as_post(body, {})[0]))


@PROPERTY_SETTINGS
@given(body=form_bodies(EnrolmentForm.base_fields))
def test_enrolment_form(body):
    check_form(EnrolmentForm(as_post(body, {})[0]))
