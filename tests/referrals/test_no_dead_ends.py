"""No dead ends: every state but the final ones has a step some role (not only Vigie) may take — the dossier's
table and the evaluation's own — and the case that used to be stuck (an evaluation validated while its
eligibility blocks the sending) gets unstuck and reaches the parquet, by a return or by an addendum."""

import html as html_lib

import pytest
from django.urls import reverse

from audit.models import AccessEvent
from cidff import services as cidff_services
from cidff.models import EVALUATION_STEPS, FINAL_EVALUATION_STATUSES, Evaluation, EvaluationStatus
from cidff.policies import evaluation_policy
from notifications.models import Notification
from referrals.policies import referral_policy
from referrals.workflow import FINAL_STATES, SYSTEM, TRANSITIONS, Status

pytestmark = pytest.mark.django_db
COHABITING_UNKNOWN = "Précisez si la victime cohabite avec l'auteur."


# --- the tables ------------------------------------------------------------------------------------------


def test_every_dossier_state_but_the_final_one_has_a_step_a_role_may_take():
    for status in Status:
        ways = [t for t in TRANSITIONS if status in t.sources and t.by != SYSTEM]
        assert bool(ways) == (status not in FINAL_STATES), status
        for transition in ways:
            assert hasattr(referral_policy, f"may_{transition.by}"), transition.action


def test_every_evaluation_state_but_sent_has_a_step_a_role_may_take():
    for status in EvaluationStatus:
        moves = [
            name
            for name, step in EVALUATION_STEPS.items()
            if status in step.sources and step.target is not None and step.by != SYSTEM
        ]
        assert bool(moves) == (status not in FINAL_EVALUATION_STATUSES), status
    for name, step in EVALUATION_STEPS.items():
        assert hasattr(evaluation_policy, f"may_{step.by}"), name
        assert step.target is None or step.target in EvaluationStatus.values, name
        service = "evaluation_add_addendum" if name == "addendum" else f"evaluation_{name}"
        assert callable(getattr(cidff_services, service)), service
    # a validated evaluation, not yet sent, can always go back to its evaluator
    assert EvaluationStatus.VALIDATED in EVALUATION_STEPS["return"].sources


# --- the stuck case --------------------------------------------------------------------------------------


def api_post(client, evaluation, action, body=None):
    return client.post(f"/api/v1/evaluations/{evaluation.pk}/{action}/", body or {}, content_type="application/json")


def stuck(make_evaluation) -> Evaluation:
    """Validated, then the cohabitation turned out unknown (validated before validation checked it)."""
    evaluation = make_evaluation("validated")
    Evaluation.objects.filter(pk=evaluation.pk).update(eligibility={**evaluation.eligibility, "cohabiting": None})
    evaluation.refresh_from_db()
    return evaluation


def test_a_stuck_validated_evaluation_is_returned_to_the_evaluator_then_sent(api, users, make_evaluation):
    evaluation = stuck(make_evaluation)
    coordinator, evaluator = api(users["coord_sud"]), api(users["eval1_sud"])

    response = api_post(coordinator, evaluation, "send")
    assert response.status_code == 400 and response.json()["eligibility"] == [COHABITING_UNKNOWN]
    detail = coordinator.get(f"/api/v1/evaluations/{evaluation.pk}/").json()
    assert detail["blocking"] == [COHABITING_UNKNOWN]

    # the reason is required; the evaluator may not send her own evaluation back
    assert api_post(coordinator, evaluation, "return", {"comment": " "}).status_code == 400
    assert api_post(evaluator, evaluation, "return", {"comment": "Non."}).status_code == 403
    evaluation.refresh_from_db()
    assert evaluation.status == "validated"

    response = api_post(coordinator, evaluation, "return", {"comment": "Précisez la cohabitation."})
    assert response.status_code == 200, response.json()
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.validated_by, evaluation.validated_at) == ("draft", None, None)
    assert evaluation.returned_comment == "Précisez la cohabitation."
    event = AccessEvent.objects.filter(action="evaluation.return", object_id=str(evaluation.pk)).get()
    assert event.actor == users["coord_sud"] and "validated" in event.detail
    assert Notification.objects.filter(user=users["eval1_sud"], kind="evaluation_returned").exists()

    body = {"eligibility": {"cohabiting": False}}
    url = f"/api/v1/evaluations/{evaluation.pk}/"
    assert evaluator.patch(url, body, content_type="application/json").status_code == 200
    assert api_post(evaluator, evaluation, "finalize").status_code == 200
    assert api_post(coordinator, evaluation, "validate").status_code == 200
    response = api_post(coordinator, evaluation, "send")
    assert response.status_code == 200, response.json()
    evaluation.referral.refresh_from_db()
    assert evaluation.referral.status == Status.REPORT_SENT
    assert api_post(coordinator, evaluation, "return", {"comment": "Trop tard."}).status_code == 409


def test_the_coordinator_corrects_eligibility_by_an_addendum_on_the_review_page_then_sends(
    api, users, make_evaluation, django_capture_on_commit_callbacks
):
    evaluation = stuck(make_evaluation)
    client = api(users["coord_sud"])
    review = reverse("evaluation-review", args=[evaluation.pk])
    page = html_lib.unescape(client.get(review).content.decode())
    assert "Transmission refusée pour l'instant" in page and COHABITING_UNKNOWN in page
    assert page.index(COHABITING_UNKNOWN) < page.index("Transmettre au parquet</button>")
    assert "Renvoyer à l'évaluatrice" in page and "Corriger la cohabitation" in page

    response = client.post(
        reverse("evaluation-addendum", args=[evaluation.pk]),
        {
            "addendum-text": "La victime a confirmé par téléphone vivre chez sa sœur depuis mars.",
            "addendum-cohabiting": "non",
            "addendum-retour": "seconde-lecture",
        },
    )
    assert response.status_code == 302, response.content.decode()
    evaluation.refresh_from_db()
    assert evaluation.status == "validated" and evaluation.eligibility["cohabiting"] is False
    addendum = evaluation.addenda.get()
    assert addendum.eligibility == {"cohabiting": False}
    event = AccessEvent.objects.filter(action="evaluation.addendum", object_id=str(evaluation.pk)).get()
    assert "cohabiting" in event.detail
    page = html_lib.unescape(client.get(review).content.decode())
    assert "Éligibilité corrigée : Cohabitation avec l'auteur : Non" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("evaluation-action", args=[evaluation.pk, "transmettre"]))
    assert response.status_code == 302
    evaluation.refresh_from_db()
    evaluation.referral.refresh_from_db()
    assert evaluation.status == "sent" and evaluation.referral.status == Status.REPORT_SENT


def test_the_evaluators_eligibility_addendum_sends_a_validated_evaluation_back_to_second_reading(
    api, users, make_evaluation
):
    evaluation = stuck(make_evaluation)
    evaluator, coordinator = api(users["eval1_sud"]), api(users["coord_sud"])
    body = {"text": "Elle ne vit plus avec lui depuis mars.", "eligibility": {"cohabiting": False}}
    response = api_post(evaluator, evaluation, "addenda", body)
    assert response.status_code == 201, response.json()
    assert response.json()["eligibility"] == {"cohabiting": False}
    evaluation.refresh_from_db()
    assert (evaluation.status, evaluation.validated_by) == ("finalized", None)
    assert Notification.objects.filter(user=users["coord_sud"], kind="evaluation_finalized").exists()

    assert api_post(coordinator, evaluation, "validate").status_code == 200
    assert api_post(coordinator, evaluation, "send").status_code == 200


def test_an_addendum_cannot_smuggle_unknown_eligibility_keys_nor_leave_a_validation_that_would_be_refused(
    api, users, make_evaluation
):
    evaluation = make_evaluation("validated")
    coordinator = api(users["coord_sud"])
    response = api_post(coordinator, evaluation, "addenda", {"text": "x", "eligibility": {"inconnu": 1}})
    assert response.status_code == 400
    response = api_post(
        coordinator, evaluation, "addenda", {"text": "Elle vit avec lui.", "eligibility": {"cohabiting": True}}
    )
    assert response.status_code == 400 and "cohabite" in response.json()["eligibility"][0]
    evaluation.refresh_from_db()
    assert evaluation.eligibility["cohabiting"] is False and not evaluation.addenda.exists()


def test_the_validated_review_page_offers_the_return_and_the_web_return_works(api, users, make_evaluation):
    evaluation = stuck(make_evaluation)
    client = api(users["coord_sud"])
    url = reverse("evaluation-action", args=[evaluation.pk, "renvoyer"])
    assert client.post(url, {"renvoyer-comment": ""}).status_code == 400
    response = client.post(url, {"renvoyer-comment": "Précisez la cohabitation avec la victime."})
    assert response.status_code == 302
    evaluation.refresh_from_db()
    assert evaluation.status == "draft" and evaluation.validated_at is None
