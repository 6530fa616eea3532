"""Possible duplicates: who learns that another dossier of the same woman exists, and what; the coordination's
answers (link, dismiss); the parquet's count of dossiers naming the same author; the exact search."""

import datetime

import pytest
from django.test import Client

from audit.models import AccessEvent
from cidff.models import EvaluationStatus
from referrals import selectors
from referrals.models import DuplicateAnswer, Referral
from tests.auth import sign_in

pytestmark = pytest.mark.django_db

BORN = datetime.date(1990, 4, 3)
AUTHOR = {
    "last_name": "Durand",
    "first_name": "Marc",
    "birth_date": datetime.date(1985, 1, 2),
    "relationship": "ex_conjoint",
}


def victim(last, first, born=BORN, phone="06 12 34 56 78"):
    return {"last_name": last, "first_name": first, "birth_date": born, "phone": phone, "safe_contact": "Portable."}


@pytest.fixture
def twins(make_referral, make_evaluation):
    """The same woman filed three times (two spellings at CIDFF 92 Sud, her phone at CIDFF 92 Nord), a draft
    of her, and a stranger. `first` has a validated evaluation."""
    first = make_evaluation("validated", victim=victim("MARTIN-Dupont", "Élodie  ")).referral
    second = make_referral(
        "evaluation",
        referrer="referrer_police",
        evaluator="eval2_sud",
        victim=victim("martin dupont", "elodie", phone="07 11 22 33 44"),
    )
    nord = make_referral(
        "received",
        referrer="referrer_hospital",
        cidff="cidff92nord",
        victim=victim("Martin", "Lola", phone="+33 6 12 34 56 78"),
    )
    draft = make_referral("draft", victim=victim("Martin-Dupont", "Élodie"))
    stranger = make_referral("received", victim=victim("Faure", "Nora", phone="06 99 99 99 99"))
    return {"first": first, "second": second, "nord": nord, "draft": draft, "stranger": stranger}


def detail(api, user, referral):
    response = api(user).get(f"/api/v1/referrals/{referral.pk}/")
    assert response.status_code == 200, response.content
    return response.json()


def shown():
    events = AccessEvent.objects.filter(action="duplicate.shown")
    return sorted(int(pk) for pk in events.values_list("object_id", flat=True))


# --- who sees what -------------------------------------------------------------------------------------------


def test_coordination_sees_the_match_she_may_open_and_only_the_organisation_of_the_other(twins, api, users, orgs):
    body = detail(api, users["coord_sud"], twins["second"])
    assert body["possible_duplicates"] == [
        {"id": twins["first"].pk, "reference": twins["first"].reference, "organisation": orgs["cidff92sud"].name},
    ]
    body = detail(api, users["coord_sud"], twins["first"])
    assert body["possible_duplicates"] == [
        {"id": twins["second"].pk, "reference": twins["second"].reference, "organisation": orgs["cidff92sud"].name},
        {"id": None, "reference": None, "organisation": orgs["cidff92nord"].name},  # same phone, another CIDFF
    ]
    assert twins["nord"].reference not in str(body["possible_duplicates"])
    # one journal line per match shown, about the matched dossier, without personal data
    assert shown() == sorted([twins["first"].pk, twins["second"].pk, twins["nord"].pk])
    for event in AccessEvent.objects.filter(action="duplicate.shown"):
        assert "Martin" not in event.detail and "06" not in event.detail


def test_the_page_links_the_visible_match_and_names_only_the_organisation_of_the_other(twins, api, users, orgs):
    page = api(users["coord_sud"]).get(f"/dossiers/{twins['first'].pk}/").content.decode()
    assert "Doublons possibles" in page
    assert f'href="/dossiers/{twins["second"].pk}/"' in page
    assert f"Un dossier existe au {orgs['cidff92nord'].name} : contactez-le" in page
    assert twins["nord"].reference not in page
    assert "Lola" not in page


@pytest.mark.parametrize("who", ["eval1_sud", "referrer_ccas"])
def test_evaluator_and_referrer_learn_nothing(twins, api, users, who):
    body = detail(api, users[who], twins["first"])
    assert "possible_duplicates" not in body and "same_author_count" not in body
    page = api(users[who]).get(f"/dossiers/{twins['first'].pk}/").content.decode()
    assert "Doublons possibles" not in page and "contactez-le" not in page
    assert twins["second"].reference not in page
    assert selectors.referral_possible_duplicates(user=users[who], referral=twins["first"]) == []
    assert not AccessEvent.objects.filter(action="duplicate.shown").exists()


@pytest.mark.parametrize("who", ["operator", "coord_nord", "prosecutor_nanterre", "supervisor"])
def test_others_get_nothing(twins, users, who):
    assert selectors.referral_possible_duplicates(user=users[who], referral=twins["first"]) == []


def test_a_draft_is_never_a_match(twins, users):
    ids = [m["id"] for m in selectors.referral_possible_duplicates(user=users["coord_sud"], referral=twins["first"])]
    assert twins["draft"].pk not in ids and twins["stranger"].pk not in ids


def test_an_anonymised_dossier_is_never_a_match(twins, users):
    Referral.objects.filter(pk=twins["second"].pk).update(anonymised_at=twins["second"].created_at)
    matches = selectors.referral_possible_duplicates(user=users["coord_sud"], referral=twins["first"])
    assert [m["organisation"] for m in matches] == [twins["nord"].cidff.name]


def test_bounded_queries_whatever_the_number_of_matches(twins, make_referral, users, django_assert_max_num_queries):
    coordinator, first = users["coord_sud"], twins["first"]
    selectors.referral_sees_duplicates(user=coordinator, referral=first)  # grants cached on the object
    with django_assert_max_num_queries(6):
        assert len(selectors.referral_possible_duplicates(user=coordinator, referral=first)) == 2
    for _ in range(6):
        make_referral("received", victim=victim("Martin Dupont", "Elodie"))
    with django_assert_max_num_queries(6):
        assert len(selectors.referral_possible_duplicates(user=coordinator, referral=first)) == 8


# --- the parquet ---------------------------------------------------------------------------------------------


@pytest.fixture
def reported(make_evaluation, make_referral):
    """A report sent to the Nanterre parquet; the same author named in two other 92 dossiers and one in Paris."""
    sent = make_evaluation("sent", victim=victim("Martin", "Élodie"), author=AUTHOR).referral
    make_referral("received", victim=victim("Haddad", "Sarah", phone="06 55 55 55 55"), author=dict(AUTHOR))
    make_referral(
        "submitted",
        cidff="cidff92nord",
        victim=victim("Kaci", "Nora", phone="06 44 44 44 44"),
        author={**AUTHOR, "last_name": "DURAND "},
    )
    make_referral(
        "submitted", cidff="cidffparis", victim=victim("Blanc", "Laura", phone="06 33 33 33 33"), author=AUTHOR
    )
    make_referral("draft", author=AUTHOR)
    return sent


def test_parquet_sees_how_many_dossiers_of_the_jurisdiction_name_the_same_author(reported, api, users):
    body = detail(api, users["prosecutor_nanterre"], reported)
    assert body["same_author_count"] == 2
    assert body["possible_duplicates"] == []
    page = api(users["prosecutor_nanterre"]).get(f"/dossiers/{reported.pk}/").content.decode()
    assert "2 autres dossiers" in page and "le même auteur" in page
    coordination = detail(api, users["coord_sud"], reported)
    assert "same_author_count" not in coordination and "possible_duplicates" in coordination
    assert "le même auteur" not in api(users["coord_sud"]).get(f"/dossiers/{reported.pk}/").content.decode()


# --- link and dismiss ----------------------------------------------------------------------------------------


def answer(api, user, referral, other, verdict="linked"):
    return api(user).post(
        f"/api/v1/referrals/{referral.pk}/duplicates/",
        {"other": other, "verdict": verdict},
        content_type="application/json",
    )


def test_coordination_links_then_the_newer_dossier_shows_the_earlier_evaluations(twins, api, users):
    first, second = twins["first"], twins["second"]
    response = answer(api, users["coord_sud"], second, first.pk)
    assert response.status_code == 200, response.content
    stored = DuplicateAnswer.objects.get()
    assert (stored.referral_id, stored.other_id, stored.verdict, stored.by) == (
        first.pk,
        second.pk,
        "linked",
        users["coord_sud"],
    )
    assert AccessEvent.objects.filter(action="duplicate.linked", object_id=str(second.pk)).exists()
    evaluation = first.evaluations.get(status=EvaluationStatus.VALIDATED)
    for who in ("eval2_sud", "coord_sud"):
        page = api(users[who]).get(f"/dossiers/{second.pk}/").content.decode()
        assert "Évaluations des dossiers liés" in page, who
        assert first.reference in page
    # the earlier dossier does not show the newer one's; her own evaluator never sees the summary elsewhere
    assert "Évaluations des dossiers liés" not in api(users["coord_sud"]).get(f"/dossiers/{first.pk}/").content.decode()
    assert AccessEvent.objects.filter(action="evaluation.linked_summary", object_id=str(evaluation.pk)).exists()


def test_dismissed_match_is_no_longer_shown_to_anyone(twins, api, users):
    first, second = twins["first"], twins["second"]
    assert answer(api, users["coord_sud"], first, second.pk, "dismissed").status_code == 200
    matches = detail(api, users["coord_sud"], second)["possible_duplicates"]
    assert matches == []
    assert [m["id"] for m in detail(api, users["coord_sud"], first)["possible_duplicates"]] == [None]


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("eval2_sud", 403),
        ("referrer_police", 403),
        ("coord_nord", 404),
        ("prosecutor_nanterre", 404),
        ("operator", 404),
    ],
)
def test_only_the_coordination_answers(twins, api, users, who, status):
    assert answer(api, users[who], twins["second"], twins["first"].pk).status_code == status
    assert not DuplicateAnswer.objects.exists()


def test_bad_answers(twins, api, users):
    coordinator, first = users["coord_sud"], twins["first"]
    assert answer(api, coordinator, first, 10**9).status_code == 404
    assert answer(api, coordinator, first, twins["nord"].pk).status_code == 404  # not visible to her
    assert answer(api, coordinator, first, first.pk).status_code == 400
    assert answer(api, coordinator, first, twins["second"].pk, "peut-etre").status_code == 400
    assert answer(api, coordinator, twins["nord"], first.pk).status_code == 404
    assert not DuplicateAnswer.objects.exists()


def test_web_link_needs_the_csrf_token_and_the_coordination(twins, users):
    first, second = twins["first"], twins["second"]
    data = {"other": first.pk, "verdict": "linked"}
    strict = sign_in(Client(enforce_csrf_checks=True), users["coord_sud"])
    assert strict.post(f"/dossiers/{second.pk}/doublons/", data).status_code == 403
    assert sign_in(Client(), users["eval2_sud"]).post(f"/dossiers/{second.pk}/doublons/", data).status_code == 403
    assert sign_in(Client(), users["coord_nord"]).post(f"/dossiers/{second.pk}/doublons/", data).status_code == 404
    assert not DuplicateAnswer.objects.exists()
    bad = sign_in(Client(), users["coord_sud"]).post(
        f"/dossiers/{second.pk}/doublons/", {"other": first.pk, "verdict": "x"}
    )
    assert bad.status_code == 400
    response = sign_in(Client(), users["coord_sud"]).post(f"/dossiers/{second.pk}/doublons/", data)
    assert response.status_code == 302 and response["Location"].endswith(f"/dossiers/{second.pk}/#doublons")
    assert DuplicateAnswer.objects.get().verdict == "linked"


# --- exact search ----------------------------------------------------------------------------------------------


def search(api, user, text):
    response = api(user).get("/api/v1/referrals/", {"q": text})
    assert response.status_code == 200, response.content
    return sorted(row["id"] for row in response.json()["results"])


def test_search_by_identity_or_phone_among_visible_dossiers(twins, api, users):
    first, second = twins["first"], twins["second"]
    assert search(api, users["coord_sud"], "MARTIN-DUPONT Élodie 03/04/1990") == sorted([first.pk, second.pk])
    assert search(api, users["coord_sud"], "+33 6 12 34 56 78") == [first.pk]  # the Nord one is not hers
    assert search(api, users["coord_nord"], "06.12.34.56.78") == [twins["nord"].pk]
    assert search(api, users["referrer_ccas"], "martin dupont elodie 1990-04-03") == sorted(
        [first.pk, twins["draft"].pk]
    )
    assert search(api, users["coord_sud"], "Martin") == []
    page = api(users["coord_sud"]).get("/dossiers/", {"q": "martin dupont elodie 03/04/1990"}).content.decode()
    assert first.reference in page and second.reference in page and twins["stranger"].reference not in page
