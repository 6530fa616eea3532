"""The referral workflow through the API: happy paths, wrong states (409) and bad input (400)."""

import pytest
from django.core import mail

from referrals.models import CaseEvent, Referral
from referrals.workflow import Status
from tests.clock import days_ago

pytestmark = pytest.mark.django_db


def create_body() -> dict:
    """A complete create body: separated three months ago, a protection order two months ago."""
    return {
        "urgency": "urgent",
        "referrer_function": "travailleur_social",
        "victim": {
            "last_name": "Exemple",
            "first_name": "Alice",
            "birth_date": "1990-04-02",
            "phone": "06 00 00 00 01",
            "safe_contact": "Appeler le matin",
        },
        "author": {"last_name": "Auteur", "first_name": "Bob", "relationship": "ex_conjoint", "custody_status": "free"},
        "children": [{"first_name": "Zoé", "birth_date": "2018-01-01", "common_child": True}],
        "cohabiting": False,
        "separation_date": days_ago(92).isoformat(),
        "facts": "Menaces de mort répétées.",
        "measures": [
            {
                "type": "ordonnance_protection",
                "authority": "JAF",
                "date": days_ago(62).isoformat(),
                "no_contact_ban": True,
            }
        ],
        "victim_informed": True,
    }


def create(client, orgs, **changes):
    body = {**create_body(), "cidff": orgs["cidff92sud"].pk, **changes}
    return client.post("/api/v1/referrals/", body, content_type="application/json")


def post(client, referral, action, body=None):
    return client.post(f"/api/v1/referrals/{referral.pk}/{action}/", body or {}, content_type="application/json")


def test_referrer_creates_a_draft_with_a_reference(api, users, orgs):
    response = create(api(users["referrer_ccas"]), orgs)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["status"] == "draft"
    assert data["reference"].startswith("SIG-") and len(data["reference"]) == len("SIG-2026-00001")
    assert data["victim"]["last_name"] == "Exemple"
    assert data["author"]["relationship"] == "ex_conjoint"
    referral = Referral.objects.get(pk=data["id"])
    assert referral.referrer == users["referrer_ccas"]
    assert referral.referrer_organisation == orgs["ccas"]
    assert referral.events.get().action == "create"


def test_full_path_submit_acknowledge_assign(api, users, orgs, django_capture_on_commit_callbacks):
    client = api(users["referrer_ccas"])
    referral_id = create(client, orgs).json()["id"]
    referral = Referral.objects.get(pk=referral_id)

    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, referral, "submit")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "submitted"
    assert "victim" not in response.json()  # the referrer no longer sees the content
    assert [m.to for m in mail.outbox] == [[users["coord_sud"].email]]
    assert "Exemple" not in mail.outbox[0].body and referral.reference in mail.outbox[0].subject

    coordinator = api(users["coord_sud"])
    with django_capture_on_commit_callbacks(execute=True):
        response = post(coordinator, referral, "acknowledge")
    assert response.status_code == 200
    assert response.json()["status"] == "received"
    assert mail.outbox[-1].to == [users["referrer_ccas"].email]

    response = post(coordinator, referral, "assign", {"evaluator": users["eval1_sud"].pk})
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "evaluation"
    assert response.json()["evaluator"]["id"] == users["eval1_sud"].pk

    evaluator = api(users["eval1_sud"])
    assert evaluator.get(f"/api/v1/referrals/{referral.pk}/").status_code == 200

    # reassignment: the previous evaluator loses the dossier at once
    response = api(users["coord_sud"]).post(
        f"/api/v1/referrals/{referral.pk}/assign/",
        {"evaluator": users["eval2_sud"].pk},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert api(users["eval1_sud"]).get(f"/api/v1/referrals/{referral.pk}/").status_code == 404
    assert api(users["eval2_sud"]).get(f"/api/v1/referrals/{referral.pk}/").status_code == 200

    actions = list(CaseEvent.objects.filter(referral=referral).values_list("action", "from_status", "to_status"))
    assert actions == [
        ("create", "", "draft"),
        ("submit", "draft", "submitted"),
        ("acknowledge", "submitted", "received"),
        ("assign", "received", "evaluation"),
        ("reassign", "evaluation", "evaluation"),
    ]


def test_draft_patch_by_author_only_and_only_while_draft(api, users, orgs, make_referral):
    client = api(users["referrer_ccas"])
    referral_id = create(client, orgs).json()["id"]
    response = client.patch(
        f"/api/v1/referrals/{referral_id}/", {"victim": {"first_name": "Alicia"}}, content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["victim"] == {**response.json()["victim"], "first_name": "Alicia", "last_name": "Exemple"}

    submitted = make_referral("submitted")
    response = client.patch(f"/api/v1/referrals/{submitted.pk}/", {"facts": "x"}, content_type="application/json")
    assert response.status_code == 409
    assert "transmis" in response.json()["detail"]


def test_submit_lists_missing_fields_in_french_and_changes_nothing(api, users, orgs):
    client = api(users["referrer_ccas"])
    referral_id = create(client, orgs, victim={}, facts="", victim_informed=False).json()["id"]
    response = client.post(f"/api/v1/referrals/{referral_id}/submit/")
    assert response.status_code == 400
    errors = response.json()
    assert errors["victim.last_name"] == ["Le nom de la victime est obligatoire."]
    assert "facts" in errors and "victim_informed" in errors
    referral = Referral.objects.get(pk=referral_id)
    assert referral.status == Status.DRAFT and referral.events.count() == 1
    assert not mail.outbox


def test_cohabiting_victim_is_submitted_with_a_warning(api, users, orgs):
    client = api(users["referrer_ccas"])
    referral_id = create(client, orgs, cohabiting=True).json()["id"]
    assert client.post(f"/api/v1/referrals/{referral_id}/submit/").status_code == 200
    detail = api(users["coord_sud"]).get(f"/api/v1/referrals/{referral_id}/").json()
    assert any("non-cohabitation" in warning for warning in detail["warnings"])


@pytest.mark.parametrize(
    "body, field",
    [
        ({"cidff": 999_999}, "cidff"),
        ({"urgency": "tres_urgent"}, "urgency"),
        ({"referrer_function": "astronaute"}, "referrer_function"),
        ({"victim": {"birth_date": "31/02/1990"}}, "victim"),
        ({"victim": {"shoe_size": 38}}, "victim"),
        ({"author": {"relationship": "voisin"}}, "author"),
        ({"measures": [{"type": "oppi", "date": "2026-10-01", "expiry": "2026-01-01"}]}, "measures"),
        ({"unknown": 1}, "unknown"),
        ({"facts": "x" * 20_001}, "facts"),
    ],
)
def test_bad_create_input_is_refused_with_french_messages(api, users, orgs, body, field):
    response = create(api(users["referrer_ccas"]), orgs, **body)
    assert response.status_code == 400
    assert field in response.json()
    assert not Referral.objects.exists()


def test_cidff_target_must_be_a_cidff(api, users, orgs):
    response = create(api(users["referrer_ccas"]), orgs, cidff=orgs["parquet_nanterre"].pk)
    assert response.status_code == 400 and "cidff" in response.json()


def test_only_referrers_create(api, users, orgs):
    for key in ("coord_sud", "eval1_sud", "prosecutor_nanterre", "operator", "supervisor"):
        assert create(api(users[key]), orgs).status_code == 403
    assert create(api(None), orgs).status_code in (401, 403)
    assert not Referral.objects.exists()


@pytest.mark.parametrize(
    "state, action, body",
    [
        ("submitted", "submit", None),
        ("received", "acknowledge", None),
        ("submitted", "assign", "evaluator"),
        ("evaluation", "transfer", "transfer"),
        ("closed", "close", {"reason": "unreachable"}),
        ("submitted", "close", {"reason": "unreachable"}),
    ],
)
def test_wrong_state_answers_409_and_changes_nothing(api, users, orgs, make_referral, state, action, body):
    referral = make_referral(state)
    if body == "evaluator":
        body = {"evaluator": users["eval2_sud"].pk}
    elif body == "transfer":
        body = {"cidff": orgs["cidff92nord"].pk, "reason": "secteur"}
    actor = users["referrer_ccas"] if action == "submit" else users["coord_sud"]
    events_before = referral.events.count()
    response = post(api(actor), referral, action, body)
    assert response.status_code == 409, response.json()
    assert response.json()["detail"]
    referral.refresh_from_db()
    assert referral.status == state if state != "withdrawn" else Status.CLOSED
    assert referral.events.count() == events_before


def test_withdraw_by_referrer_before_evaluation_only(api, users, make_referral):
    client = api(users["referrer_ccas"])
    received = make_referral("received")
    response = post(client, received, "withdraw", {"comment": "La victime a déménagé."})
    assert response.status_code == 200
    received.refresh_from_db()
    assert (received.status, received.closure_reason) == ("closed", "withdrawn_by_referrer")

    in_evaluation = make_referral("evaluation")
    assert post(client, in_evaluation, "withdraw").status_code == 409


def test_transfer_moves_the_dossier_to_the_other_cidff(api, users, orgs, make_referral):
    referral = make_referral("received")
    response = post(api(users["coord_sud"]), referral, "transfer", {"cidff": orgs["cidff92nord"].pk, "reason": ""})
    assert response.status_code == 400 and "reason" in response.json()
    response = post(
        api(users["coord_sud"]), referral, "transfer", {"cidff": orgs["cidff92nord"].pk, "reason": "Secteur nord."}
    )
    assert response.status_code == 200, response.json()
    referral.refresh_from_db()
    assert referral.cidff == orgs["cidff92nord"] and referral.status == "received"
    assert api(users["coord_sud"]).get(f"/api/v1/referrals/{referral.pk}/").status_code == 404
    assert api(users["coord_nord"]).get(f"/api/v1/referrals/{referral.pk}/").status_code == 200
    event = referral.events.get(action="transfer")
    assert event.comment == "Secteur nord."


def test_transfer_and_assign_refuse_bad_targets(api, users, orgs, make_referral):
    referral = make_referral("received")
    client = api(users["coord_sud"])
    for cidff in (orgs["cidff92sud"].pk, orgs["parquet_nanterre"].pk, 0):
        assert post(client, referral, "transfer", {"cidff": cidff, "reason": "x"}).status_code == 400
    for evaluator in (users["eval_nord"].pk, users["coord_sud"].pk, users["referrer_ccas"].pk, 0):
        assert post(client, referral, "assign", {"evaluator": evaluator}).status_code == 400
    assert post(client, referral, "assign", {"evaluator": "abc"}).status_code == 400
    referral.refresh_from_db()
    assert referral.status == "received" and referral.evaluator is None


def test_close_requires_a_known_reason_and_a_comment_for_other(api, users, make_referral):
    referral = make_referral("evaluation")
    client = api(users["coord_sud"])
    assert post(client, referral, "close", {"reason": "refused"}).status_code == 400
    assert post(client, referral, "close", {"reason": "other"}).status_code == 400
    response = post(client, referral, "close", {"reason": "other", "comment": "Relogée hors département."})
    assert response.status_code == 200
    referral.refresh_from_db()
    assert (referral.status, referral.closure_reason) == ("closed", "other")
    assert referral.closed_at is not None


def test_delete_draft(api, users, make_referral):
    draft = make_referral("draft")
    submitted = make_referral("submitted")
    client = api(users["referrer_ccas"])
    assert client.delete(f"/api/v1/referrals/{submitted.pk}/").status_code == 409
    assert client.delete(f"/api/v1/referrals/{draft.pk}/").status_code == 204
    assert not Referral.objects.filter(pk=draft.pk).exists()


def test_events_endpoint_hides_actors_and_comments_from_the_referrer(api, users, orgs, make_referral):
    referral = make_referral("received")
    referrer_view = api(users["referrer_ccas"]).get(f"/api/v1/referrals/{referral.pk}/events/").json()
    assert [e["to_status"] for e in referrer_view["results"]] == ["draft", "submitted", "received"]
    assert "actor" not in referrer_view["results"][0]
    cidff_view = api(users["coord_sud"]).get(f"/api/v1/referrals/{referral.pk}/events/").json()
    assert cidff_view["results"][-1]["actor"] == str(users["coord_sud"])


def test_list_is_paginated_and_filterable(api, users, make_referral):
    for state in ("draft", "submitted", "received"):
        make_referral(state)
    data = api(users["referrer_ccas"]).get("/api/v1/referrals/?status=submitted").json()
    assert set(data) >= {"results", "next"}
    assert [r["status"] for r in data["results"]] == ["submitted"]
    assert "victim" not in data["results"][0]


def test_malformed_requests_get_clear_errors_not_500(api, users, make_referral):
    client = api(users["referrer_ccas"])
    response = client.post("/api/v1/referrals/", "{pas du json", content_type="application/json")
    assert response.status_code == 400 and response.json()["detail"]
    assert client.post("/api/v1/referrals/", "x", content_type="text/plain").status_code == 415
    assert client.get("/api/v1/referrals/abc/").status_code == 404
    assert client.get("/api/v1/referrals/99999999999999999999/").status_code == 404
    assert client.get("/api/v1/referrals/?status=inconnu").status_code == 400
    assert client.post("/api/v1/referrals/", [1, 2], content_type="application/json").status_code == 400
    referral = make_referral("draft")
    response = client.patch(f"/api/v1/referrals/{referral.pk}/", {"children": "abc"}, content_type="application/json")
    assert response.status_code == 400
    assert not Referral.objects.exclude(pk=referral.pk).exists()
