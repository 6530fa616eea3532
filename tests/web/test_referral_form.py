"""The signalement form: a referrer drafts, completes and transmits through the web pages."""

import pytest
from django.urls import reverse

from referrals.models import Referral
from tests.web.helpers import assert_csp_safe, minimal_form_data, referral_form_data, text

pytestmark = pytest.mark.django_db


def test_the_form_is_sectioned_and_labelled(api, users):
    html = text(api(users["referrer_ccas"]).get(reverse("referral-create")))
    for legend in (
        "Destinataire et urgence",
        "Votre fonction",
        "La victime",
        "Joindre la victime en sécurité",
        "L'auteur",
        "Enfants",
        "Situation du couple",
        "Les faits",
        "Mesures judiciaires et plaintes",
        "Information de la victime",
    ):
        assert f'<legend class="section__title">{legend}</legend>' in html
    assert "exige que la victime ne cohabite pas avec l&#x27;auteur" in html
    assert 'type="date" name="victim_birth_date"' in html
    assert 'name="enregistrer"' in html and 'name="transmettre"' in html
    assert 'autocomplete="off"' in html
    # the CIDFF choices: active CIDFFs only
    assert "CIDFF 92 Sud" in html and "CIDFF de Paris" in html and "Parquet de Nanterre" not in html
    assert_csp_safe(html)


def test_a_referrer_creates_a_draft_through_the_form(api, users, orgs):
    client = api(users["referrer_ccas"])
    response = client.post(reverse("referral-create"), referral_form_data(orgs["cidff92sud"]))
    referral = Referral.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("referral-detail", args=[referral.pk])
    assert referral.status == "draft" and referral.urgency == "urgent"
    assert referral.victim["last_name"] == "Lambertini" and referral.victim["birth_date"] == "1990-04-12"
    assert referral.author["last_name"] == "Morelon" and referral.author_relationship == "ex_conjoint"
    assert referral.cohabiting is False and referral.victim_informed is True
    assert referral.children == [
        {"first_name": "Lina", "birth_date": "2019-05-03", "common_child": True, "residence": "victim"}
    ]  # the untouched blank row is ignored
    assert len(referral.measures) == 1 and referral.measures[0]["no_contact_ban"] is True

    html = text(client.get(response["Location"]))
    assert f"Brouillon {referral.reference} enregistré." in html
    assert "Lambertini" in html  # the author reads her own draft in full
    assert "Transmettre au CIDFF" in html and "Supprimer le brouillon" in html


def test_a_referrer_creates_and_transmits_in_one_go(api, users, orgs):
    client = api(users["referrer_ccas"])
    response = client.post(
        reverse("referral-create"), referral_form_data(orgs["cidff92sud"], enregistrer=None, transmettre="1")
    )
    referral = Referral.objects.get()
    assert referral.status == "submitted"
    html = text(client.get(response["Location"]))
    assert f"Signalement {referral.reference} transmis au CIDFF 92 Sud." in html


def test_transmitting_an_incomplete_draft_keeps_it_and_shows_french_messages(api, users, orgs):
    client = api(users["referrer_ccas"])
    response = client.post(reverse("referral-create"), minimal_form_data(orgs["cidff92sud"], transmettre="1"))
    html = text(response)
    assert response.status_code == 400
    referral = Referral.objects.get()
    assert referral.status == "draft"  # saved, not sent
    assert f"Le brouillon {referral.reference} est enregistré" in html
    for message in (
        "Le nom de la victime est obligatoire.",
        "Le prénom de la victime est obligatoire.",
        "Indiquez au moins un moyen de contact sûr pour joindre la victime.",
        "Le nom de l&#x27;auteur est obligatoire.",
        "Précisez si la victime cohabite encore avec l&#x27;auteur.",
        "Décrivez les faits.",
        "La victime doit être informée du signalement et l&#x27;accepter.",
    ):
        assert message in html
    # the errors are tied to their fields, and the form now edits the saved draft
    assert 'id="id_victim_last_name_error"' in html
    assert 'aria-describedby="id_victim_last_name_error"' in html
    assert f'action="{reverse("referral-edit", args=[referral.pk])}"' in html

    # completing it on the edit page transmits it
    response = client.post(
        reverse("referral-edit", args=[referral.pk]),
        referral_form_data(orgs["cidff92sud"], enregistrer=None, transmettre="1"),
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "submitted"


def test_a_draft_needs_a_cidff_and_a_function(api, users, orgs):
    response = api(users["referrer_ccas"]).post(
        reverse("referral-create"), {**minimal_form_data(orgs["cidff92sud"]), "cidff": "", "referrer_function": ""}
    )
    html = text(response)
    assert response.status_code == 400
    assert "Choisissez le CIDFF destinataire." in html and "Précisez votre fonction." in html
    assert not Referral.objects.exists()


def test_invalid_values_are_explained_and_nothing_is_saved(api, users, orgs):
    data = referral_form_data(
        orgs["cidff92sud"],
        victim_email="pas-une-adresse",
        **{"mesures-0-expiry": "2000-01-01"},
    )
    response = api(users["referrer_ccas"]).post(reverse("referral-create"), data)
    html = text(response)
    assert response.status_code == 400
    assert "Saisissez une adresse e-mail valide." in html
    assert "L&#x27;échéance précède la date de la mesure." in html
    assert not Referral.objects.exists()


def test_editing_a_draft_shows_its_values_and_saves_changes(api, users, make_referral, orgs):
    referral = make_referral("draft")
    client = api(users["referrer_ccas"])
    html = text(client.get(reverse("referral-edit", args=[referral.pk])))
    assert f'value="{referral.victim["last_name"]}"' in html
    assert f'value="{referral.victim["birth_date"]}"' in html  # ISO, as the date input wants it
    assert 'name="enfants-0-first_name"' in html and 'value="Lina"' in html

    response = client.post(
        reverse("referral-edit", args=[referral.pk]),
        referral_form_data(orgs["cidff92nord"], facts="Nouveaux faits.", **{"enfants-0-first_name": ""}),
    )
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.facts == "Nouveaux faits." and referral.cidff == orgs["cidff92nord"]
    assert referral.status == "draft"


def test_a_transmitted_signalement_is_no_longer_editable(api, users, make_referral, orgs):
    referral = make_referral("submitted")
    client = api(users["referrer_ccas"])
    response = client.get(reverse("referral-edit", args=[referral.pk]))
    assert response.status_code == 409
    assert "Un signalement transmis ne se modifie plus." in text(response)
    assert reverse("referral-detail", args=[referral.pk]) in response.content.decode()
    response = client.post(reverse("referral-edit", args=[referral.pk]), referral_form_data(orgs["cidff92sud"]))
    assert response.status_code == 409
    referral.refresh_from_db()
    assert referral.facts != "Menaces de mort répétées depuis la séparation."
