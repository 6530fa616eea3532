"""The evaluation through the API: filling, freezing, second reading, sending; who may do what."""

import io

import pytest
from pypdf import PdfReader

from cidff.models import Evaluation, EvaluationReport
from cidff.policies import evaluation_policy
from notifications.models import Notification
from referrals.models import Referral
from tests.clock import days_ahead
from tests.evaluations import all_answers, complete, eligible

pytestmark = pytest.mark.django_db


def patch(client, evaluation, body):
    return client.patch(f"/api/v1/evaluations/{evaluation.pk}/", body, content_type="application/json")


def post(client, evaluation, action, body=None):
    return client.post(f"/api/v1/evaluations/{evaluation.pk}/{action}/", body or {}, content_type="application/json")


def test_instruments_endpoint_follows_the_contract(api, users):
    client = api(users["eval1_sud"])
    listing = client.get("/api/v1/instruments/").json()
    assert [i["code"] for i in listing["results"]] == ["grille-vigie"]
    grid = client.get("/api/v1/instruments/grille-vigie/").json()
    assert set(grid) >= {"code", "version", "sections", "thresholds"}
    item = grid["sections"][0]["items"][0]
    assert set(item) == {"code", "text", "help", "weight", "red"}
    assert client.get("/api/v1/instruments/inconnue/").status_code == 404
    assert client.get("/api/v1/instruments/grille-vigie/?version=1").json()["version"] == 1
    assert client.get("/api/v1/instruments/grille-vigie/?version=9").status_code == 404
    assert client.get("/api/v1/instruments/grille-vigie/?version=abc").status_code == 404


def test_full_path_from_first_answer_to_the_parquet(api, users, make_referral, django_capture_on_commit_callbacks):
    referral = make_referral("evaluation")
    evaluator, coordinator = api(users["eval1_sud"]), None
    response = evaluator.post("/api/v1/evaluations/", {"referral": referral.pk}, content_type="application/json")
    assert response.status_code == 201, response.json()
    evaluation = Evaluation.objects.get(pk=response.json()["id"])
    assert response.json()["instrument"] == {"code": "grille-vigie", "version": 1}

    response = patch(evaluator, evaluation, {"answers": {"V03": {"answer": "yes", "comment": "Deux fois en octobre."}}})
    assert response.status_code == 200
    assert response.json()["score"]["red_items"] == ["V03"] and response.json()["score"]["level"] == "high"

    response = post(evaluator, evaluation, "finalize")
    assert response.status_code == 400
    assert "28 élément(s) sans réponse" in response.json()["answers"][0] and "narrative" in response.json()

    body = complete(answers=all_answers(yes=("V03", "V04", "V09")))
    assert patch(evaluator, evaluation, body).status_code == 200
    response = post(evaluator, evaluation, "finalize")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert (data["status"], data["computed_level"], data["final_level"]) == ("finalized", "severe", "severe")
    assert data["answers"]["V03"]["comment"] == ""  # the full update replaced it

    coordinator = api(users["coord_sud"])
    assert post(coordinator, evaluation, "validate").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = post(coordinator, evaluation, "send")
    assert response.status_code == 200, response.json()
    referral.refresh_from_db()
    assert referral.status == "report_sent"
    assert referral.events.order_by("id").last().action == "report_sent"

    report = EvaluationReport.objects.get(evaluation=evaluation)
    assert report.status == "ready" and report.version == 1 and len(report.sha256) == 64
    assert Notification.objects.filter(user=users["prosecutor_nanterre"], kind="report_sent").exists()

    prosecutor = api(users["prosecutor_nanterre"])
    assert prosecutor.get(f"/api/v1/referrals/{referral.pk}/").status_code == 200
    pdf = prosecutor.get(f"/api/v1/evaluations/{evaluation.pk}/report/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert referral.reference in text
    assert api(users["prosecutor_paris"]).get(f"/api/v1/referrals/{referral.pk}/").status_code == 404
    assert api(users["prosecutor_paris"]).get(f"/api/v1/evaluations/{evaluation.pk}/report/").status_code == 404


def test_finalized_answers_are_frozen_and_corrections_are_addenda(api, users, make_evaluation):
    evaluation = make_evaluation("finalized")
    before = Evaluation.objects.get(pk=evaluation.pk).answers
    response = patch(api(users["eval1_sud"]), evaluation, {"answers": {"V01": "yes"}})
    assert response.status_code == 409 and "addendum" in response.json()["detail"]
    assert Evaluation.objects.get(pk=evaluation.pk).answers == before
    response = post(api(users["eval1_sud"]), evaluation, "addenda", {"text": "Précision : les menaces datent de 2025."})
    assert response.status_code == 201
    assert (
        api(users["coord_sud"])
        .get(f"/api/v1/evaluations/{evaluation.pk}/")
        .json()["addenda"][0]["text"]
        .startswith("Précision")
    )
    assert post(api(users["eval1_sud"]), evaluation, "addenda", {"text": ""}).status_code == 400


def test_second_reader_sends_back_with_a_comment(api, users, make_evaluation):
    evaluation = make_evaluation("finalized")
    coordinator = api(users["coord_sud"])
    assert post(coordinator, evaluation, "return", {"comment": ""}).status_code == 400
    response = post(coordinator, evaluation, "return", {"comment": "Préciser la date de la dernière menace."})
    assert response.status_code == 200
    assert response.json()["status"] == "draft" and response.json()["returned_comment"].startswith("Préciser")
    assert Notification.objects.filter(user=users["eval1_sud"], kind="evaluation_returned").exists()
    assert patch(api(users["eval1_sud"]), evaluation, {"answers": {"V01": "yes"}}).status_code == 200


def test_judgement_may_raise_the_level_never_lower_it(api, users, make_evaluation):
    evaluation = make_evaluation("draft", yes=("V03",))  # computed: high
    client = api(users["eval1_sud"])
    response = patch(client, evaluation, {"judgement": "watch"})
    assert response.status_code == 400 and "jamais l'abaisser" in response.json()["judgement"][0]
    assert patch(client, evaluation, {"judgement": "inconnu"}).status_code == 400
    assert patch(client, evaluation, {"judgement": "severe"}).status_code == 200
    response = post(client, evaluation, "finalize")
    assert response.status_code == 400 and "judgement_reason" in response.json()
    patch(client, evaluation, {"judgement_reason": "Arme détenue par l'auteur selon la victime."})
    data = post(client, evaluation, "finalize").json()
    assert (data["computed_level"], data["final_level"]) == ("high", "severe")


@pytest.mark.parametrize(
    "body, field",
    [
        ({"answers": {"Z99": "yes"}}, "answers"),
        ({"answers": {"V01": "peut-être"}}, "answers"),
        ({"answers": {"V01": {"answer": "yes", "comment": "x" * 2001}}}, "answers"),
        ({"eligibility": {"cohabiting": "souvent"}}, "eligibility"),
        ({"eligibility": {"shoe_size": 3}}, "eligibility"),
        ({"eligibility": {"ban_date": "hier"}}, "eligibility"),
        ({"recommendation": ["prison"]}, "recommendation"),
        ({"interview": {"dates": ["2026-13-01"]}}, "interview"),
        ({"score": 99}, "score"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(api, users, make_evaluation, body, field):
    evaluation = make_evaluation("draft")
    before = Evaluation.objects.get(pk=evaluation.pk)
    response = patch(api(users["eval1_sud"]), evaluation, body)
    assert response.status_code == 400 and field in response.json(), response.json()
    after = Evaluation.objects.get(pk=evaluation.pk)
    assert (after.answers, after.eligibility, after.recommendation) == (
        before.answers,
        before.eligibility,
        before.recommendation,
    )


def test_cohabitation_is_a_hard_block_at_validation_and_at_sending(api, users, make_evaluation):
    coordinator = api(users["coord_sud"])
    evaluation = make_evaluation("finalized", eligibility={"cohabiting": True})
    detail = coordinator.get(f"/api/v1/evaluations/{evaluation.pk}/").json()
    assert any("cohabite" in message for message in detail["blocking"])
    response = post(coordinator, evaluation, "validate")  # the sending would be refused: so is the validation
    assert response.status_code == 400
    assert any("cohabite" in message for message in response.json()["eligibility"])
    evaluation.refresh_from_db()
    assert evaluation.status == "finalized" and evaluation.validated_at is None

    # validated before the situation was known (or validated before this rule): the sending refuses it too
    validated = make_evaluation("validated")
    Evaluation.objects.filter(pk=validated.pk).update(eligibility={**validated.eligibility, "cohabiting": True})
    response = post(coordinator, validated, "send")
    assert response.status_code == 400
    assert any("cohabite" in message for message in response.json()["eligibility"])
    validated.refresh_from_db()
    assert validated.status == "validated" and not EvaluationReport.objects.exists()
    assert Referral.objects.get(pk=validated.referral_id).status == "evaluation"
    assert api(users["prosecutor_nanterre"]).get(f"/api/v1/referrals/{validated.referral_id}/").status_code == 404


@pytest.mark.parametrize(
    "eligibility, message",
    [
        ({"consent": False}, "consentement"),
        ({"legal_basis": ""}, "fondement"),
        ({"ban_expiry": "2020-01-01"}, "a pris fin"),
        ({"legal_basis": "imminent_danger", "exception_ground": "", "justification": ""}, "motif de l'exception"),
        ({"victim_category": ""}, "catégorie"),
    ],
)
def test_other_eligibility_blocks(api, users, make_evaluation, eligibility, message):
    evaluation = make_evaluation("finalized", eligibility=eligibility)
    response = post(api(users["coord_sud"]), evaluation, "validate")
    assert response.status_code == 400
    assert any(message in text for text in response.json()["eligibility"]), response.json()


def test_ban_ending_before_six_months_is_a_warning_not_a_block(api, users, make_evaluation):
    soon = days_ahead(40).isoformat()
    evaluation = make_evaluation("validated", eligibility={"ban_expiry": soon})
    detail = api(users["coord_sud"]).get(f"/api/v1/evaluations/{evaluation.pk}/").json()
    assert detail["eligibility_check"]["eligible"] and "avant le terme" in detail["eligibility_check"]["warnings"][0]
    assert post(api(users["coord_sud"]), evaluation, "send").status_code == 200


def test_who_sees_and_does_what(api, users, make_evaluation):
    evaluation = make_evaluation("finalized")
    url = f"/api/v1/evaluations/{evaluation.pk}/"
    for key in (
        "eval_nord",
        "coord_nord",
        "eval2_sud",
        "referrer_ccas",
        "prosecutor_nanterre",
        "operator",
        "supervisor",
    ):
        client = api(users[key])
        assert client.get(url).status_code == 404, key
        assert post(client, evaluation, "validate").status_code == 404, key
        assert client.get(url + "report/").status_code == 404, key
    assert api(users["eval1_sud"]).get(url).status_code == 200
    assert post(api(users["eval1_sud"]), evaluation, "validate").status_code == 403  # not her own
    assert post(api(users["eval1_sud"]), evaluation, "send").status_code == 403
    assert patch(api(users["coord_sud"]), evaluation, {"narrative": "x"}).status_code == 403
    preview = api(users["coord_sud"]).get(url + "report/")
    assert preview.status_code == 200 and "projet" in preview["Content-Disposition"]


def test_prosecutor_sees_only_the_sent_evaluation_and_cannot_edit(api, users, make_evaluation):
    evaluation = make_evaluation("sent")
    client = api(users["prosecutor_nanterre"])
    assert client.get(f"/api/v1/evaluations/{evaluation.pk}/").status_code == 200
    assert patch(client, evaluation, {"narrative": "x"}).status_code == 403
    assert [e["id"] for e in client.get("/api/v1/evaluations/").json()["results"]] == [evaluation.pk]


def test_evaluation_can_only_start_in_the_right_state_and_once(api, users, make_referral, make_evaluation):
    client = api(users["eval1_sud"])
    received = make_referral("received")
    response = client.post("/api/v1/evaluations/", {"referral": received.pk}, content_type="application/json")
    assert response.status_code == 404  # not assigned to her: she cannot see it
    evaluation = make_evaluation("draft")
    response = client.post(
        "/api/v1/evaluations/", {"referral": evaluation.referral_id}, content_type="application/json"
    )
    assert response.status_code == 409 and "déjà en cours" in response.json()["detail"]
    response = api(users["coord_sud"]).post(
        "/api/v1/evaluations/", {"referral": evaluation.referral_id}, content_type="application/json"
    )
    assert response.status_code == 403
    response = client.post(
        "/api/v1/evaluations/", {"referral": evaluation.referral_id, "kind": "weird"}, content_type="application/json"
    )
    assert response.status_code == 400


def test_evaluation_content_is_encrypted_at_rest(make_evaluation):
    from django.db import connection

    evaluation = make_evaluation("draft")
    with connection.cursor() as cursor:
        cursor.execute("SELECT CAST(t AS text) FROM cidff_evaluation t WHERE id = %s", [evaluation.pk])
        (row,) = cursor.fetchone()
    assert "Menaces de mort" not in row and "JAF de Nanterre" not in row and eligible()["ban_authority"] not in row


def test_a_judgement_overtaken_by_the_answers_does_not_block_saving(api, users, make_evaluation):
    evaluation = make_evaluation("draft", yes=())  # computed: watch
    client = api(users["eval1_sud"])
    assert patch(client, evaluation, {"judgement": "high", "judgement_reason": "Arme au domicile."}).status_code == 200
    response = patch(client, evaluation, {"answers": all_answers(yes=("V03", "V04"))})  # computed: severe
    assert response.status_code == 200, response.json()
    data = post(client, evaluation, "finalize").json()
    assert (data["computed_level"], data["final_level"], data["judgement"]) == ("severe", "severe", "")


def test_a_dossiers_evaluations_read_from_its_grants_are_those_the_sql_filter_shows(users, make_evaluation):
    """The dossier page lists a dossier's evaluations through `of_dossier()`, decided from its grants in memory;
    every user must get exactly what the list's SQL filter gives her: the CIDFF all, the parquet the sent ones."""
    draft, sent = make_evaluation("draft"), make_evaluation("sent")
    shown = {}
    for key, user in users.items():
        for evaluation in (draft, sent):
            referral = Referral.objects.get(pk=evaluation.referral_id)  # its grants read anew, as on each page
            by_sql = set(evaluation_policy.instances_user_has_permission_for(user).filter(referral=referral))
            assert set(evaluation_policy.of_dossier(user, referral)) == by_sql, key
            shown[key, evaluation.status] = len(by_sql)
    assert shown["coord_sud", "draft"] == shown["coord_sud", "sent"] == shown["eval1_sud", "draft"] == 1
    assert (shown["prosecutor_nanterre", "draft"], shown["prosecutor_nanterre", "sent"]) == (0, 1)
    for key in ("coord_nord", "eval_nord", "prosecutor_paris", "referrer_ccas", "operator", "supervisor"):
        assert shown[key, "draft"] == shown[key, "sent"] == 0
