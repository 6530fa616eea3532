"""The dossier's web forms (referrals.forms): any posted body is accepted or refused in French, never a 500."""

import json
from types import SimpleNamespace

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from accounts.models import Organisation, OrganisationKind, Role, User
from referrals.forms import (
    AssignForm,
    ChildForm,
    CloseForm,
    DeleteForm,
    DocumentForm,
    MeasureForm,
    ReferralEditor,
    ReferralForm,
    TransferForm,
    WithdrawForm,
)
from referrals.models import Referral
from tests.properties.strategies import (
    FORM_JUNK,
    PROPERTY_SETTINGS,
    as_post,
    assert_french,
    check_form,
    choose,
    form_bodies,
)

COUNTS = choose(st.integers(0, 4).map(str), st.sampled_from(["", "-1", "abc", "21", "51", "1000", "9" * 30]), FORM_JUNK)


def formset_bodies(form_class, prefix: str):
    """A formset as the page posts it: management form and rows (or a tampered management form)."""

    def build(total, initial, rows):
        body = {f"{prefix}-TOTAL_FORMS": total, f"{prefix}-INITIAL_FORMS": initial}
        for index, row in enumerate(rows):
            body.update({f"{prefix}-{index}-{key}": value for key, value in row.items()})
        return body

    rows = st.lists(form_bodies(form_class.base_fields), max_size=2)
    return choose(
        rows.map(lambda items: build(str(len(items)), "0", items)),
        rows.map(lambda items: build(str(len(items)), "0", items)),
        st.builds(build, COUNTS, COUNTS, rows),
        st.just({}),
    )


EDITOR_BODIES = st.builds(
    lambda form, children, measures: {**form, **children, **measures},
    form_bodies(ReferralForm.base_fields),
    formset_bodies(ChildForm, "enfants"),
    formset_bodies(MeasureForm, "mesures"),
)


@pytest.fixture
def pools(world):
    """Mostly choices the form offers, a few it must refuse (another role, another CIDFF, not a CIDFF)."""
    cidffs = Organisation.objects.filter(kind=OrganisationKind.CIDFF).order_by("pk").values_list("pk", flat=True)
    others = Organisation.objects.exclude(kind=OrganisationKind.CIDFF).order_by("pk").values_list("pk", flat=True)
    evaluators = User.objects.filter(role=Role.EVALUATOR).order_by("pk").values_list("pk", flat=True)
    return {
        "cidff": [str(pk) for pk in [*cidffs, others[0]]],
        "evaluator": [str(pk) for pk in [*evaluators, world.users["coord_sud"].pk]],
    }


@PROPERTY_SETTINGS
@given(body=EDITOR_BODIES)
@example(body={"enfants-TOTAL_FORMS": "9" * 30, "enfants-INITIAL_FORMS": "0"})
@example(body={"victim_birth_date": "31/12/9999", "separation_date": "0001-01-01", "cohabiting": "peut-être"})
def test_referral_editor(pools, body):
    """The signalement page: the form and its two formsets; once valid, the service's `data` and the summary."""
    data, files = as_post(body, pools)
    before = Referral.objects.count()
    editor = ReferralEditor(data)
    valid = editor.is_valid()  # every part validated at once
    for part in (editor.form, *editor.children.forms, *editor.measures.forms):
        check_form(part)
    for formset in (editor.children, editor.measures):
        formset.is_valid()
        for message in formset.non_form_errors():
            assert_french(message)
    summary = editor.error_summary()
    assert valid or summary
    if valid:
        payload = editor.payload()
        json.dumps(payload, default=str, ensure_ascii=False, allow_nan=False).encode()
    assert Referral.objects.count() == before


@PROPERTY_SETTINGS
@given(body=form_bodies(ChildForm.base_fields))
def test_child_form(body):
    form = ChildForm(as_post(body, {})[0])
    if check_form(form):
        form.is_blank()


@PROPERTY_SETTINGS
@given(body=form_bodies(MeasureForm.base_fields))
@example(body={"type": "ban", "date": "10/01/2026", "expiry": "09/01/2026"})
def test_measure_form(body):
    form = MeasureForm(as_post(body, {})[0])
    if check_form(form):
        data = form.cleaned_data
        assert form.is_blank() or data["type"]
        assert not (data.get("date") and data.get("expiry") and data["expiry"] < data["date"])


@pytest.fixture
def dossier(orgs, users):
    """What AssignForm and TransferForm read of their dossier: its CIDFF and its evaluator."""
    return SimpleNamespace(cidff_id=orgs["cidff92sud"].pk, evaluator_id=users["eval1_sud"].pk)


@PROPERTY_SETTINGS
@given(body=form_bodies(AssignForm.base_fields))
def test_assign_form(pools, dossier, body):
    form = AssignForm(as_post(body, pools)[0], referral=dossier)
    if check_form(form):
        assert form.cleaned_data["evaluator"].organisation_id == dossier.cidff_id


@PROPERTY_SETTINGS
@given(body=form_bodies(TransferForm.base_fields))
def test_transfer_form(pools, dossier, body):
    form = TransferForm(as_post(body, pools)[0], referral=dossier)
    if check_form(form):
        assert form.cleaned_data["cidff"].pk != dossier.cidff_id


@PROPERTY_SETTINGS
@given(body=form_bodies(CloseForm.base_fields))
def test_close_form(body):
    check_form(CloseForm(as_post(body, {})[0]))


@PROPERTY_SETTINGS
@given(body=form_bodies(WithdrawForm.base_fields))
def test_withdraw_form(body):
    check_form(WithdrawForm(as_post(body, {})[0]))


@PROPERTY_SETTINGS
@given(body=form_bodies(DeleteForm.base_fields))
def test_delete_form(body):
    check_form(DeleteForm(as_post(body, {})[0]))


@PROPERTY_SETTINGS
@given(body=form_bodies(DocumentForm.base_fields))
def test_document_form(body):
    data, files = as_post(body, {})
    check_form(DocumentForm(data, files))
