"""Less re-typing: what the referrer typed pre-fills the evaluation's eligibility (the evaluator confirms it);
and a finalization refused for unanswered items names each item and links to it on the form."""

import html as html_lib

import pytest
from django.urls import reverse

from cidff import services
from cidff.instruments import definition_items
from tests.clock import days_ago, days_ahead
from tests.web.helpers import evaluation_form_data

pytestmark = pytest.mark.django_db

BAN = {
    "type": "controle_judiciaire",
    "authority": "Juge d'instruction de Nanterre",
    "no_contact_ban": True,
}


def test_the_referrers_measure_and_cohabitation_prefill_the_eligibility(users, make_referral):
    referral = make_referral(
        "evaluation",
        cohabiting=False,
        measures=[
            {"type": "plainte", "authority": "Commissariat de Nanterre", "date": days_ago(90)},
            {**BAN, "type": "ordonnance_protection", "date": days_ago(400), "expiry": days_ago(35)},  # ended
            {**BAN, "date": days_ago(30), "expiry": days_ahead(200)},
        ],
    )
    evaluation = services.evaluation_create(user=users["eval1_sud"], referral_id=referral.pk)
    assert evaluation.eligibility == {
        "cohabiting": False,
        "victim_category": "partner_violence",  # the demo authors are (ex-)partners
        "legal_basis": "contact_ban",
        "ban_framework": "controle_judiciaire",
        "ban_authority": "Juge d'instruction de Nanterre",
        "ban_date": days_ago(30).isoformat(),
        "ban_expiry": days_ahead(200).isoformat(),
    }
    assert "consent" not in evaluation.eligibility  # the evaluator records it herself


def test_no_ban_declared_leaves_the_basis_to_the_evaluator(users, make_referral):
    referral = make_referral(
        "evaluation",
        cohabiting=True,
        measures=[{"type": "controle_judiciaire", "date": days_ago(30), "no_contact_ban": False}],
    )
    evaluation = services.evaluation_create(user=users["eval1_sud"], referral_id=referral.pk)
    assert evaluation.eligibility["cohabiting"] is True and "legal_basis" not in evaluation.eligibility


def test_the_form_shows_the_prefilled_values_and_what_the_referrer_declared(api, users, make_referral):
    referral = make_referral(
        "evaluation",
        cohabiting=False,
        separation_date=days_ago(45),
        measures=[{**BAN, "date": days_ago(30), "expiry": days_ahead(200)}],
    )
    evaluation = services.evaluation_create(user=users["eval1_sud"], referral_id=referral.pk)
    response = api(users["eval1_sud"]).get(reverse("evaluation-edit", args=[evaluation.pk]))
    page = html_lib.unescape(response.content.decode())
    assert "Déclaré par le référent dans le signalement" in page
    assert f"Date de séparation</dt><dd>{days_ago(45):%d/%m/%Y}" in page
    assert '<option value="non" selected>' in page  # cohabitation
    assert '<option value="controle_judiciaire" selected>' in page
    assert 'value="Juge d\'instruction de Nanterre"' in page
    assert f'value="{days_ago(30).isoformat()}"' in page


def test_unanswered_items_are_named_and_linked_one_by_one(api, users, make_referral):
    referral = make_referral("evaluation")
    evaluation = services.evaluation_create(user=users["eval1_sud"], referral_id=referral.pk)
    items = definition_items(evaluation.instrument.definition)
    answered = dict.fromkeys(list(items)[2:], "no")  # the first two items left without an answer
    data = evaluation_form_data(evaluation, answered, finaliser="1")
    response = api(users["eval1_sud"]).post(reverse("evaluation-edit", args=[evaluation.pk]), data)
    assert response.status_code == 400
    page = html_lib.unescape(response.content.decode())
    summary = page.split('class="error-summary"')[1].split("</div>")[0]
    for code in list(items)[:2]:
        assert (
            f'<a href="#item-{code}"><span class="eval-item__code">{code}</span> {items[code]["text"]}</a>' in summary
        )
        assert f'id="item-{code}"' in page  # the anchor exists on the form
    assert "2 élément(s) sans réponse" in summary
    third = list(items)[2]
    assert f'href="#item-{third}"' not in summary
