"""Workflow actions through the web forms: the services decide, the pages explain in French."""

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals.models import Referral
from tests.web.helpers import text

pytestmark = pytest.mark.django_db


def act(client, referral, action, data=None, **kwargs):
    posted = {f"{action}-{key}": value for key, value in (data or {}).items()}
    return client.post(reverse("referral-action", args=[referral.pk, action]), posted, **kwargs)


# --- the referrer ---------------------------------------------------------------------------------


def test_the_referrer_transmits_her_draft_from_its_page(api, users, make_referral):
    referral = make_referral("draft")
    response = act(api(users["referrer_ccas"]), referral, "submit", follow=True)
    referral.refresh_from_db()
    assert referral.status == "submitted"
    assert f"Signalement {referral.reference} transmis au CIDFF 92 Sud." in text(response)


def test_transmitting_an_incomplete_draft_from_its_page_lists_what_is_missing(api, users, make_referral):
    referral = make_referral("draft", facts="", victim_informed=False)
    response = act(api(users["referrer_ccas"]), referral, "submit")
    html = text(response)
    assert response.status_code == 400
    assert "Décrivez les faits." in html and "La victime doit être informée" in html
    assert "Compléter le brouillon" in html
    referral.refresh_from_db()
    assert referral.status == "draft"


def test_after_submission_the_referrer_sees_the_status_not_the_content(api, users, make_referral):
    referral = make_referral("received")
    html = text(api(users["referrer_ccas"]).get(reverse("referral-detail", args=[referral.pk])))
    assert referral.reference in html and "Reçu — à attribuer" in html and "Reçu par le CIDFF le" in html
    for secret in (
        referral.victim["last_name"],
        referral.victim["first_name"],
        referral.victim["phone"],
        referral.author["last_name"],
        referral.facts,
        "Sophie",  # who acknowledged it
    ):
        assert secret not in html
    assert "Retirer le signalement" in html


def test_deleting_a_draft_needs_a_confirmation(api, users, make_referral):
    referral = make_referral("draft")
    client = api(users["referrer_ccas"])
    response = act(client, referral, "delete")
    assert response.status_code == 400
    assert "Cochez la case pour confirmer la suppression." in text(response)
    assert Referral.objects.filter(pk=referral.pk).exists()

    response = act(client, referral, "delete", {"confirm": "on"})
    assert response.status_code == 302 and response["Location"] == reverse("referral-list")
    assert not Referral.objects.filter(pk=referral.pk).exists()


def test_the_referrer_withdraws_a_transmitted_signalement(api, users, make_referral):
    referral = make_referral("submitted")
    response = act(api(users["referrer_ccas"]), referral, "withdraw", {"comment": "Réorientée."}, follow=True)
    referral.refresh_from_db()
    assert referral.status == "closed" and referral.closure_reason == "withdrawn_by_referrer"
    html = text(response)
    assert f"Signalement {referral.reference} retiré." in html and "Retiré par le référent" in html


def test_the_referrer_may_not_acknowledge(api, users, make_referral):
    referral = make_referral("submitted")
    response = act(api(users["referrer_ccas"]), referral, "acknowledge")
    assert response.status_code == 403
    assert "Seule la coordination du CIDFF destinataire accuse réception." in text(response)


# --- the CIDFF coordinator ------------------------------------------------------------------------


def test_the_coordinator_acknowledges(api, users, make_referral):
    referral = make_referral("submitted")
    response = act(api(users["coord_sud"]), referral, "acknowledge", follow=True)
    referral.refresh_from_db()
    assert referral.status == "received" and referral.acknowledged_at is not None
    html = text(response)
    assert "Réception du dossier" in html and "Accusé de réception" in html
    assert "Transmis au CIDFF → Reçu — à attribuer" in html
    event = referral.events.get(action="acknowledge")
    assert timezone.localtime(event.created_at).strftime("%d/%m/%Y à %H:%M") in html  # Europe/Paris


def test_acknowledging_twice_is_a_conflict_explained_in_french(api, users, make_referral):
    referral = make_referral("received")
    response = act(api(users["coord_sud"]), referral, "acknowledge")
    assert response.status_code == 409
    assert "La réception de ce signalement a déjà été accusée." in text(response)


def test_the_coordinator_assigns_an_evaluator_of_her_cidff(api, users, make_referral):
    referral = make_referral("received")
    client = api(users["coord_sud"])
    html = text(client.get(reverse("referral-detail", args=[referral.pk])))
    assert "Amina Diallo" in html and "Julie Moreau" in html and "Léa Fontaine" not in html  # 92 Nord

    response = act(client, referral, "assign", {"evaluator": users["eval_nord"].pk})
    assert response.status_code == 400
    assert "Choisissez une évaluatrice ou un évaluateur actif de votre CIDFF." in text(response)

    response = act(client, referral, "assign", {"evaluator": users["eval1_sud"].pk}, follow=True)
    referral.refresh_from_db()
    assert referral.status == "evaluation" and referral.evaluator == users["eval1_sud"]
    assert f"Dossier {referral.reference} attribué à Amina Diallo." in text(response)


def test_the_coordinator_transfers_with_a_reason(api, users, make_referral):
    referral = make_referral("received")
    client = api(users["coord_sud"])
    response = act(client, referral, "transfer", {"cidff": users["coord_nord"].organisation_id, "reason": ""})
    assert response.status_code == 400
    assert "Indiquez le motif du transfert." in text(response)
    # answered at the action's address, the page shows the dossier's (vigie.js): a reload does not post again
    dossier = reverse("referral-detail", args=[referral.pk])
    assert f'<link rel="canonical" href="{dossier}" data-replace-url>' in response.content.decode()
    assert "data-replace-url" not in client.get(dossier).content.decode()

    response = act(
        client, referral, "transfer", {"cidff": users["coord_nord"].organisation_id, "reason": "Autre secteur."}
    )
    assert response.status_code == 302 and response["Location"] == reverse("referral-list")
    referral.refresh_from_db()
    assert referral.cidff_id == users["coord_nord"].organisation_id and referral.status == "received"
    assert client.get(reverse("referral-detail", args=[referral.pk])).status_code == 404
    html = text(api(users["coord_nord"]).get(reverse("referral-detail", args=[referral.pk])))
    assert "Transfert vers un autre CIDFF" in html and "Autre secteur." in html


def test_the_coordinator_closes_with_a_reason(api, users, make_referral):
    referral = make_referral("received")
    client = api(users["coord_sud"])
    response = act(client, referral, "close", {"reason": "other", "comment": ""})
    assert response.status_code == 400
    assert "Précisez le motif de clôture." in text(response)
    referral.refresh_from_db()
    assert referral.status == "received"

    response = act(client, referral, "close", {"reason": "unreachable"}, follow=True)
    referral.refresh_from_db()
    assert referral.status == "closed" and referral.closure_reason == "unreachable"
    html = text(response)
    assert f"Dossier {referral.reference} clôturé." in html and "Victime injoignable" in html
    assert "Clôturer le dossier" not in html  # no more actions on a closed dossier


def test_closure_reasons_are_the_coordinator_ones(api, users, make_referral):
    referral = make_referral("received")
    html = text(api(users["coord_sud"]).get(reverse("referral-detail", args=[referral.pk])))
    assert "Victime injoignable" in html and "Refus du procureur" not in html


def test_unknown_action_and_get_are_refused(api, users, make_referral):
    referral = make_referral("submitted")
    client = api(users["coord_sud"])
    assert act(client, referral, "explode").status_code == 404
    assert client.get(reverse("referral-action", args=[referral.pk, "acknowledge"])).status_code == 405


def test_the_evaluator_sees_the_content_and_no_coordinator_action(api, users, make_referral):
    referral = make_referral("evaluation")
    html = text(api(users["eval1_sud"]).get(reverse("referral-detail", args=[referral.pk])))
    assert referral.victim["last_name"] in html and referral.facts in html
    assert "Accuser réception" not in html and "Transférer" not in html and "Clôturer le dossier" not in html
