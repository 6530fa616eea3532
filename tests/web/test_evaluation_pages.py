"""The danger evaluation through its web pages: the evaluator's form, the second reading, who sees what."""

import re
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cidff import services
from cidff.instruments import definition_items
from cidff.models import Evaluation
from notifications.models import Notification
from tests.clock import days_ago
from tests.web.helpers import assert_csp_safe, eligible_form_fields, evaluation_form_data
from tests.web.helpers import text as raw_text

pytestmark = pytest.mark.django_db

RED_YES = {"V03": "yes", "V04": "yes"}  # two major factors: "Danger grave"


def text(response) -> str:
    """The page with its entities decoded (the checks read French, not ')."""
    return unescape(raw_text(response))


def all_answers(evaluation, yes=(), unknown=()) -> dict:
    items = definition_items(evaluation.instrument.definition)
    return {code: "yes" if code in yes else "unknown" if code in unknown else "no" for code in items}


def complete_form(evaluation, **overrides) -> dict:
    return evaluation_form_data(
        evaluation,
        all_answers(evaluation, yes=("V03", "V04", "V09")),
        narrative="Entretien au CIDFF : menaces de mort répétées depuis la séparation.",
        recommendation=["phone"],
        interview_date_1=days_ago(5).isoformat(),
        interview_place="Permanence du CIDFF",
        **{**eligible_form_fields(), **overrides},
    )


@pytest.fixture
def started(users, make_referral):
    """A dossier in evaluation at CIDFF 92 Sud and the draft evaluation eval1 started on it."""
    referral = make_referral("evaluation")
    evaluation = services.evaluation_create(user=users["eval1_sud"], referral_id=referral.pk)
    return evaluation


@pytest.fixture
def finalized(api, users, started):
    response = api(users["eval1_sud"]).post(
        reverse("evaluation-edit", args=[started.pk]), {**complete_form(started), "finaliser": "1"}
    )
    assert response.status_code == 302, text(response)
    started.refresh_from_db()
    assert started.status == "finalized"
    return started


def edit_url(evaluation):
    return reverse("evaluation-edit", args=[evaluation.pk])


def review_url(evaluation):
    return reverse("evaluation-review", args=[evaluation.pk])


def act(client, evaluation, action, data=None):
    posted = {f"{action}-{key}": value for key, value in (data or {}).items()}
    return client.post(reverse("evaluation-action", args=[evaluation.pk, action]), posted)


# --- the evaluator -----------------------------------------------------------------------------------


def test_the_evaluator_starts_the_evaluation_from_the_dossier_page(api, users, make_referral):
    referral = make_referral("evaluation")
    client = api(users["eval1_sud"])
    html = text(client.get(reverse("referral-detail", args=[referral.pk])))
    assert "Évaluation du danger" in html and "Commencer l'évaluation" in html
    assert reverse("evaluation-start", args=[referral.pk]) in html
    assert_csp_safe(html)

    response = client.post(reverse("evaluation-start", args=[referral.pk]))
    evaluation = Evaluation.objects.get(referral=referral)
    assert response.status_code == 302 and response["Location"] == edit_url(evaluation)
    assert (evaluation.kind, evaluation.status, evaluation.evaluator) == ("initial", "draft", users["eval1_sud"])

    html = text(client.get(reverse("referral-detail", args=[referral.pk])))
    assert "Commencer l'évaluation" not in html and "Continuer la saisie" in html and edit_url(evaluation) in html
    # a second start is a conflict, explained in French
    response = client.post(reverse("evaluation-start", args=[referral.pk]))
    assert response.status_code == 409 and "Une évaluation est déjà en cours pour ce dossier." in text(response)


def test_only_the_assigned_evaluator_gets_the_start_button(api, users, make_referral):
    referral = make_referral("evaluation")
    html = text(api(users["coord_sud"]).get(reverse("referral-detail", args=[referral.pk])))
    assert "Évaluation du danger" in html and "pas encore commencée" in html
    assert "Commencer l'évaluation" not in html
    assert api(users["coord_sud"]).post(reverse("evaluation-start", args=[referral.pk])).status_code == 403
    received = make_referral("received")
    html = text(api(users["coord_sud"]).get(reverse("referral-detail", args=[received.pk])))
    assert "Commencer l'évaluation" not in html


def test_the_form_shows_every_item_with_its_red_flag_help_and_three_answers(api, users, started):
    response = api(users["eval1_sud"]).get(edit_url(started))
    html = text(response)
    assert response.status_code == 200
    assert started.referral.reference in html and "Évaluation du danger" in html
    items = definition_items(started.instrument.definition)
    for code, item in items.items():
        assert f'id="item-{code}"' in html and item["text"] in html
        for value in ("yes", "no", "unknown"):
            assert f'name="answer_{code}" value="{value}"' in html
    assert '<legend class="section__title">Violences et escalade</legend>' in html
    assert html.count("Facteur majeur</span>") >= sum(1 for item in items.values() if item["red"])
    assert "Même une seule fois, même sans trace visible." in html  # help text is visible
    assert ">Oui</label>" in html and ">Non</label>" in html and ">Ne sait pas</label>" in html
    assert html.count("Enregistrer cette section</button>") == 4 + 3  # the grid's sections, then 3 more
    assert "Finaliser l'évaluation" in html
    assert f'data-api="/api/v1/evaluations/{started.pk}/"' in html
    assert re.search(r'<script src="/static/js/evaluation\.js" nonce="[^"]+" defer>', html)
    assert 'role="status"' in html and "Score de la grille" in html
    assert_csp_safe(html)


def test_a_section_save_posts_the_whole_form_and_keeps_the_answers(api, users, started):
    client = api(users["eval1_sud"])
    data = evaluation_form_data(
        started,
        {**RED_YES, "V01": "no", "S01": "unknown"},
        comment_V03="Deux fois en octobre.",
        interview_date_1=days_ago(5).isoformat(),
        interview_place="Permanence du CIDFF",
        enregistrer="grille-violences",
    )
    response = client.post(edit_url(started), data)
    assert response.status_code == 302
    assert response["Location"] == edit_url(started) + "#grille-violences"
    started.refresh_from_db()
    assert started.answers["V03"] == {"answer": "yes", "comment": "Deux fois en octobre."}
    assert started.answers["V04"]["answer"] == "yes" and started.answers["S01"]["answer"] == "unknown"
    assert set(started.answers) == {"V01", "V03", "V04", "S01"}
    assert started.interview == {"dates": [days_ago(5).isoformat()], "place": "Permanence du CIDFF"}
    assert started.status == "draft"

    response = client.get(edit_url(started))
    html = text(response)
    assert "Section « Violences et escalade » enregistrée à" in html
    assert "Danger grave" in html  # two red factors
    assert 'data-score="red">2<' in html and 'data-score="answered">4<' in html
    assert 'name="answer_V03" value="yes" data-autosave="answer" data-item="V03" id="id_answer_V03_0" checked' in html
    assert "Deux fois en octobre." in html


def test_a_comment_without_an_answer_is_refused_and_nothing_is_lost(api, users, started):
    data = evaluation_form_data(started, {"V01": "yes"}, comment_V02="Escalade depuis l'été.", narrative="Début.")
    response = api(users["eval1_sud"]).post(edit_url(started), {**data, "enregistrer": "grille-violences"})
    html = text(response)
    assert response.status_code == 400
    assert "Choisissez Oui, Non ou Ne sait pas pour enregistrer ce commentaire." in html
    assert "Escalade depuis l'été." in html and "Début." in html  # still in the page
    started.refresh_from_db()
    assert started.answers == {} and started.narrative == ""


def test_the_judgement_may_raise_the_level_but_never_lower_it(api, users, started):
    client = api(users["eval1_sud"])
    data = evaluation_form_data(started, RED_YES, judgement="watch", enregistrer="section-conclusion")
    response = client.post(edit_url(started), data)
    assert response.status_code == 400
    assert "Le jugement professionnel peut relever le niveau calculé, jamais l'abaisser." in text(response)
    started.refresh_from_db()
    assert started.answers == {} and started.judgement == ""

    data = evaluation_form_data(started, {"V03": "yes"}, judgement="severe", judgement_reason="Arme au domicile.")
    assert client.post(edit_url(started), data).status_code == 302
    started.refresh_from_db()
    assert (started.judgement, started.judgement_reason) == ("severe", "Arme au domicile.")


def test_finalizing_with_missing_parts_lists_them_in_french_and_keeps_the_draft(api, users, started):
    data = evaluation_form_data(started, RED_YES, judgement="", finaliser="1")
    response = api(users["eval1_sud"]).post(edit_url(started), data)
    html = text(response)
    assert response.status_code == 400
    assert "L'évaluation est enregistrée, mais pas encore finalisée" in html
    assert "27 élément(s) sans réponse : V01, V02, V05" in html
    assert "Rédigez la synthèse de l'évaluation." in html
    assert "Choisissez au moins une préconisation." in html
    assert 'id="missing-V01"' in html and 'id="missing-V03"' not in html  # next to the items themselves
    assert 'href="#item-V01"' in html
    started.refresh_from_db()
    assert started.status == "draft" and started.finalized_at is None and started.computed_level == ""
    assert not Notification.objects.filter(kind="evaluation_finalized").exists()


def test_a_complete_evaluation_is_finalized_and_becomes_read_only(api, users, started):
    client = api(users["eval1_sud"])
    response = client.post(edit_url(started), {**complete_form(started), "finaliser": "1"}, follow=True)
    html = text(response)
    started.refresh_from_db()
    assert started.status == "finalized"
    assert (started.computed_level, started.final_level) == ("severe", "severe")
    assert "Évaluation finalisée : la coordination est prévenue" in html
    assert "Finaliser l'évaluation" not in html and "Enregistrer cette section" not in html
    assert "Danger grave" in html and "Ajouter un addendum" in html
    assert Notification.objects.filter(user=users["coord_sud"], kind="evaluation_finalized").exists()
    assert_csp_safe(html)

    # the answers are frozen: a late post is a conflict, and changes nothing
    response = client.post(edit_url(started), evaluation_form_data(started, {"V01": "yes"}))
    assert response.status_code == 409 and "ne se modifient plus" in text(response)
    started.refresh_from_db()
    assert started.answers["V01"]["answer"] == "no"

    # corrections are addenda
    response = client.post(reverse("evaluation-addendum", args=[started.pk]), {"addendum-text": ""})
    assert response.status_code == 400 and "Rédigez l'addendum" in text(response)
    response = client.post(
        reverse("evaluation-addendum", args=[started.pk]),
        {"addendum-text": "La victime précise que l'arme est chez le frère de l'auteur.", "addendum-retour": "lecture"},
        follow=True,
    )
    assert "Addendum ajouté" in text(response) and "chez le frère de l'auteur" in text(response)
    assert started.addenda.count() == 1


def test_a_returned_evaluation_shows_the_second_readers_comment(api, users, finalized):
    services.evaluation_return(user=users["coord_sud"], evaluation_id=finalized.pk, comment="Précisez V09.")
    html = text(api(users["eval1_sud"]).get(edit_url(finalized)))
    assert "Évaluation renvoyée par la seconde lecture" in html and "Précisez V09." in html
    assert "Finaliser l'évaluation" in html


# --- the second reading --------------------------------------------------------------------------------


def test_the_coordinator_reads_everything_the_report_will_contain(api, users, finalized):
    response = api(users["coord_sud"]).get(review_url(finalized))
    html = text(response)
    assert response.status_code == 200
    assert "Seconde lecture — dossier" in html and finalized.referral.reference in html
    for expected in (
        "Niveau calculé par la grille",
        "Danger grave",
        "Violences et escalade",
        "Tentative d'étranglement",
        "Facteur majeur présent",
        "Éligibilité",
        "Interdiction de contact prononcée",
        "Aucun point bloquant",
        "menaces de mort répétées",
        "Attribuer un téléphone grave danger",
        "Permanence du CIDFF",
        "Addenda",
        "Valider (seconde lecture)",
        "Renvoyer à l'évaluatrice",
        reverse("evaluation-report", args=[finalized.pk]),
    ):
        assert expected in html, expected
    assert 'class="row--alert"' in html  # red item answered yes, highlighted
    assert "Transmettre au parquet</button>" not in html  # not validated yet
    assert_csp_safe(html)


def test_the_dossier_page_links_the_coordinator_to_the_second_reading(api, users, finalized):
    html = text(api(users["coord_sud"]).get(reverse("referral-detail", args=[finalized.referral_id])))
    assert "Finalisée — à valider" in html and review_url(finalized) in html and "Danger grave" in html


def test_sending_back_needs_a_comment(api, users, finalized):
    client = api(users["coord_sud"])
    response = act(client, finalized, "renvoyer", {"comment": "  "})
    assert response.status_code == 400
    assert "Expliquez ce qui doit être repris." in text(response)
    # answered at the action's address, the page shows the second reading's (vigie.js): a reload does not post
    assert f'<link rel="canonical" href="{review_url(finalized)}" data-replace-url>' in response.content.decode()
    finalized.refresh_from_db()
    assert finalized.status == "finalized"

    response = act(client, finalized, "renvoyer", {"comment": "Précisez l'item V09."})
    assert response.status_code == 302
    finalized.refresh_from_db()
    assert (finalized.status, finalized.returned_comment) == ("draft", "Précisez l'item V09.")
    assert Notification.objects.filter(user=users["eval1_sud"], kind="evaluation_returned").exists()


def test_validate_then_send_to_the_parquet(api, users, finalized, django_capture_on_commit_callbacks):
    client = api(users["coord_sud"])
    response = act(client, finalized, "valider")
    assert response.status_code == 302 and response["Location"] == review_url(finalized)
    finalized.refresh_from_db()
    assert finalized.status == "validated" and finalized.validated_by == users["coord_sud"]
    html = text(client.get(review_url(finalized)))
    assert "Transmettre au parquet</button>" in html and "Valider (seconde lecture)" not in html

    with django_capture_on_commit_callbacks(execute=True):  # the report is rendered after commit
        response = act(client, finalized, "transmettre")
    assert response.status_code == 302
    finalized.refresh_from_db()
    finalized.referral.refresh_from_db()
    assert finalized.status == "sent" and finalized.referral.status == "report_sent"
    html = text(client.get(review_url(finalized)))
    assert "Rapport transmis au parquet le" in html and "Rapport d'évaluation, version 1 (PDF)" in html
    assert "Transmettre au parquet</button>" not in html and "Ajouter un addendum" not in html
    response = client.get(reverse("evaluation-report", args=[finalized.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert 'filename="' + finalized.referral.reference + '-rapport-v1.pdf"' in response["Content-Disposition"]


def test_validation_is_refused_while_eligibility_blocks_and_finalization_warns(api, users, started):
    client = api(users["eval1_sud"])
    data = {**complete_form(started, cohabiting="oui", consent=None), "finaliser": "1"}
    html = text(client.post(edit_url(started), data, follow=True))
    assert "la seconde lecture ne pourra pas valider ni transmettre" in html and "cohabite avec" in html
    coordinator = api(users["coord_sud"])
    html = text(coordinator.get(review_url(started)))
    assert "Validation impossible pour l'instant" in html
    assert html.index("Validation impossible") < html.index("Valider (seconde lecture)</button>")

    response = act(coordinator, started, "valider")
    html = text(response)
    assert response.status_code == 400
    assert "Validation refusée" in html
    assert "La victime cohabite avec l'auteur" in html and "Le consentement exprès de la victime est requis." in html
    started.refresh_from_db()
    assert started.status == "finalized"


def test_the_pdf_preview_is_served_inline(api, users, finalized):
    response = api(users["coord_sud"]).get(reverse("evaluation-report", args=[finalized.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    disposition = response["Content-Disposition"]
    assert disposition.startswith("inline;") and "rapport-projet.pdf" in disposition
    assert response.content.startswith(b"%PDF")


def test_the_evaluator_may_not_validate_and_the_coordinator_may_not_fill(api, users, finalized):
    assert act(api(users["eval1_sud"]), finalized, "valider").status_code == 403
    html = text(api(users["eval1_sud"]).get(review_url(finalized)))
    assert "Valider (seconde lecture)" not in html
    draft = finalized
    services.evaluation_return(user=users["coord_sud"], evaluation_id=draft.pk, comment="À reprendre.")
    coordinator = api(users["coord_sud"])
    html = text(coordinator.get(edit_url(draft)))
    assert "Évaluation en cours de saisie par" in html and "Enregistrer cette section" not in html
    assert coordinator.post(edit_url(draft), evaluation_form_data(draft, {"V01": "yes"})).status_code == 403


# --- who sees what ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["eval_nord", "referrer_ccas", "prosecutor_paris", "prosecutor_nanterre"])
def test_outsiders_get_404_on_every_evaluation_page(api, users, finalized, who):
    client = api(users[who])
    for url in (edit_url(finalized), review_url(finalized), reverse("evaluation-report", args=[finalized.pk])):
        assert client.get(url).status_code == 404, url
    assert client.post(edit_url(finalized), evaluation_form_data(finalized, {"V01": "yes"})).status_code == 404
    assert act(client, finalized, "valider").status_code == 404
    assert client.post(reverse("evaluation-addendum", args=[finalized.pk]), {"addendum-text": "x"}).status_code == 404


def test_the_referrer_never_sees_the_evaluation_on_her_page(api, users, finalized):
    html = text(api(users["referrer_ccas"]).get(reverse("referral-detail", args=[finalized.referral_id])))
    assert "Évaluation du danger" not in html and "Danger grave" not in html


def test_the_nanterre_prosecutor_reads_the_evaluation_once_sent(
    api, users, finalized, django_capture_on_commit_callbacks
):
    services.evaluation_validate(user=users["coord_sud"], evaluation_id=finalized.pk)
    client = api(users["prosecutor_nanterre"])
    assert client.get(edit_url(finalized)).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        services.evaluation_send(user=users["coord_sud"], evaluation_id=finalized.pk)

    for url in (edit_url(finalized), review_url(finalized)):
        response = client.get(url)
        html = text(response)
        assert response.status_code == 200
        assert "Danger grave" in html and "Rapport d'évaluation, version 1 (PDF)" in html
        assert "Valider (seconde lecture)" not in html and "Ajouter un addendum" not in html
        assert "Enregistrer cette section" not in html
    assert client.get(reverse("evaluation-report", args=[finalized.pk]))["Content-Type"] == "application/pdf"
    html = text(client.get(reverse("referral-detail", args=[finalized.referral_id])))
    assert "Évaluation du danger" in html and "Transmise au parquet" in html
    assert client.get(reverse("referral-detail", args=[finalized.referral_id])).status_code == 200
    assert api(users["prosecutor_paris"]).get(review_url(finalized)).status_code == 404


# --- notifications -----------------------------------------------------------------------------------------


def test_the_navigation_shows_unread_notifications_with_one_query(api, users, finalized):
    client = api(users["coord_sud"])
    with CaptureQueriesContext(connection) as queries:
        html = text(client.get(reverse("referral-list")))
    badge = r'Notifications <span class="nav-badge">\d+<span class="visually-hidden"> non lues?</span>'
    assert re.search(badge, html)
    unread = Notification.objects.filter(user=users["coord_sud"], read_at__isnull=True).count()
    assert f'nav-badge">{unread}<' in html
    counting = [q["sql"] for q in queries if "notifications_notification" in q["sql"]]
    assert len(counting) == 1 and "COUNT" in counting[0].upper()

    html = text(client.get(reverse("notification-list")))
    assert "Évaluation à valider (seconde lecture)" in html and "Non lue" in html
    assert_csp_safe(html)
