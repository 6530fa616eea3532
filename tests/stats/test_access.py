"""Who may see the figures: supervisor, CIDFF coordination and parquet; nobody else, and bad input is a 400."""

import pytest
from django.urls import reverse

from tests.clock import current_quarter, today

pytestmark = pytest.mark.django_db

SUMMARY = "/api/v1/stats/summary/"
CENSUS = "/api/v1/stats/census/"


@pytest.mark.parametrize("role", ["referrer_ccas", "eval1_sud", "operator"])
def test_other_roles_are_refused_everywhere(api, users, role):
    client = api(users[role])
    for url in (SUMMARY, CENSUS, reverse("stats-dashboard"), reverse("stats-census")):
        assert client.get(url).status_code == 403, url
    # refused before the parameters are read: no 400 tells them anything
    assert client.get(SUMMARY, {"from": "n'importe quoi"}).status_code == 403
    assert "Tableau de bord" not in client.get(reverse("referral-list") if role != "operator" else "/").content.decode()


def test_anonymous_gets_401_on_the_api_and_the_login_page_on_the_web(api, world):
    client = api(None)
    assert client.get(SUMMARY).status_code == 401
    assert client.get(CENSUS).status_code == 401
    for url in (reverse("stats-dashboard"), reverse("stats-census")):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login")), url


@pytest.mark.parametrize("role", ["supervisor", "coord_sud", "prosecutor_paris"])
def test_allowed_roles_have_the_nav_entry(api, users, role):
    response = api(users[role]).get(reverse("stats-dashboard"))
    assert response.status_code == 200
    assert f'href="{reverse("stats-dashboard")}"' in response.content.decode()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2026-13-01"}, "from", "Date invalide : écrivez-la sous la forme AAAA-MM-JJ."),
        ({"to": "hier"}, "to", "Date invalide : écrivez-la sous la forme AAAA-MM-JJ."),
        ({"from": "2026-06-01", "to": "2026-05-31"}, "to", "La date de fin doit être postérieure ou égale"),
        ({"from": "2016-01-01", "to": "2026-01-01"}, "to", "La période ne peut pas dépasser cinq ans."),
        ({"jurisdiction": "999999"}, "jurisdiction", "Juridiction inconnue."),
        ({"jurisdiction": "Nanterre"}, "jurisdiction", "Juridiction inconnue."),
    ],
)
def test_bad_summary_parameters_are_a_french_400(api, users, params, field, message):
    response = api(users["supervisor"]).get(SUMMARY, params)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert response.json()[field][0].startswith(message)
    page = api(users["supervisor"]).get(reverse("stats-dashboard"), params)
    assert page.status_code == 400
    assert message.replace("'", "&#x27;") in page.content.decode()


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"quarter": "2026Q5"}, "quarter", "Trimestre invalide"),
        ({"quarter": "T3-2026"}, "quarter", "Trimestre invalide"),
        ({"quarter": "next-year-Q1"}, "quarter", "Ce trimestre n'a pas encore commencé."),
        ({"format": "pdf"}, "format", "Format inconnu : choisissez csv ou xlsx."),
        ({"jurisdiction": "0"}, "jurisdiction", "Juridiction inconnue."),
    ],
)
def test_bad_census_parameters_are_a_french_400(api, users, params, field, message):
    if params.get("quarter") == "next-year-Q1":
        params = {"quarter": f"{today().year + 1}Q1"}
    response = api(users["supervisor"]).get(CENSUS, {"quarter": current_quarter(), **params})
    assert response.status_code == 400
    assert response.json()[field][0].startswith(message)
    page = api(users["supervisor"]).get(reverse("stats-census"), {"quarter": current_quarter(), **params})
    assert page.status_code == 400
    assert message.replace("'", "&#x27;") in page.content.decode()
