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


def test_transmitting_an_incomplete_signalement_shows_every_missing_field_and_saves_nothing(api, users, orgs):
    client = api(users["referrer_ccas"])
    response = client.post(reverse("referral-create"), minimal_form_data(orgs["cidff92sud"], transmettre="1"))
    html = text(response)
    assert response.status_code == 400
    assert not Referral.objects.exists()  # nothing saved, nothing sent: a reload posts again harmlessly
    assert "Le signalement n'a pas été transmis" in html
    for message in (
        "Le nom de la victime est obligatoire.",
        "Le prénom de la victime est obligatoire.",
        "Indiquez au moins un moyen de contact sûr pour joindre la victime.",
        "Le nom de l&#x27;auteur est obligatoire.",
        "Précisez le lien entre l&#x27;auteur et la victime.",
        "Précisez si la victime cohabite encore avec l&#x27;auteur.",
        "Décrivez les faits.",
        "La victime doit être informée du signalement et l&#x27;accepter.",
    ):
        assert message in html
    # the errors are tied to their fields, and the summary says whose name is missing
    assert 'id="id_victim_last_name_error"' in html
    assert 'aria-describedby="id_victim_last_name_error"' in html
    assert '<a href="#id_victim_last_name">Nom de la victime :' in html
    assert '<a href="#id_author_last_name">Nom de l&#x27;auteur :' in html

    # completed, it is saved and transmitted at once
    response = client.post(
        reverse("referral-create"), referral_form_data(orgs["cidff92sud"], enregistrer=None, transmettre="1")
    )
    assert response.status_code == 302
    assert Referral.objects.get().status == "submitted"


def test_an_empty_form_sent_to_transmit_shows_all_required_field_errors_in_one_round(api, users):
    response = api(users["referrer_ccas"]).post(
        reverse("referral-create"),
        {
            "cidff": "",
            "referrer_function": "",
            "enfants-TOTAL_FORMS": "0",
            "enfants-INITIAL_FORMS": "0",
            "mesures-TOTAL_FORMS": "0",
            "mesures-INITIAL_FORMS": "0",
            "transmettre": "1",
        },
    )
    html = text(response)
    assert response.status_code == 400
    summary = html[html.index('class="error-summary"') : html.index("</ul>", html.index('class="error-summary"'))]
    for anchor in (
        "id_cidff",
        "id_urgency",
        "id_referrer_function",
        "id_victim_last_name",
        "id_victim_first_name",
        "id_victim_safe_contact",
        "id_author_last_name",
        "id_author_relationship",
        "id_cohabiting",
        "id_facts",
        "id_victim_informed",
    ):
        assert f'href="#{anchor}"' in summary, anchor
    assert "les 11 points suivants" in html
    assert not Referral.objects.exists()


def test_transmitting_a_draft_from_its_edit_page_checks_everything_and_changes_nothing(api, users, orgs):
    client = api(users["referrer_ccas"])
    client.post(reverse("referral-create"), minimal_form_data(orgs["cidff92sud"]))
    referral = Referral.objects.get()
    url = reverse("referral-edit", args=[referral.pk])
    response = client.post(url, minimal_form_data(orgs["cidff92sud"], facts="Des faits.", transmettre="1"))
    html = text(response)
    assert response.status_code == 400
    assert "Le nom de la victime est obligatoire." in html and "Décrivez les faits." not in html
    assert f'action="{url}"' in html
    referral.refresh_from_db()
    assert referral.status == "draft" and referral.facts == ""  # nothing written

    response = client.post(url, referral_form_data(orgs["cidff92sud"], enregistrer=None, transmettre="1"))
    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.status == "submitted"


def test_saving_a_draft_redirects_so_that_a_reload_does_not_post_again(api, users, orgs):
    client = api(users["referrer_ccas"])
    response = client.post(reverse("referral-create"), minimal_form_data(orgs["cidff92sud"]), follow=True)
    referral = Referral.objects.get()
    assert response.redirect_chain == [(reverse("referral-detail", args=[referral.pk]), 302)]
    assert f"Brouillon {referral.reference} enregistré." in text(response)
    response = client.post(
        reverse("referral-edit", args=[referral.pk]), minimal_form_data(orgs["cidff92sud"], facts="Suite."), follow=True
    )
    assert response.redirect_chain == [(reverse("referral-detail", args=[referral.pk]), 302)]
    assert f"Brouillon {referral.reference} enregistré." in text(response)
    assert Referral.objects.count() == 1


def test_the_functions_are_grouped_and_the_first_signalement_remembers_hers(api, users, orgs):
    referrer = users["referrer_ccas"]
    referrer.function = ""
    referrer.save(update_fields=["function"])
    client = api(referrer)
    html = text(client.get(reverse("referral-create")))
    for group in ("Justice", "Social", "Santé", "Éducation", "Police et gendarmerie", "Associations", "Autre"):
        assert f'<optgroup label="{group}">' in html
    assert html.index('<optgroup label="Justice">') < html.index('<optgroup label="Social">')
    assert '<option value="medecin" selected>' not in html

    client.post(reverse("referral-create"), minimal_form_data(orgs["cidff92sud"]))  # medecin
    referrer.refresh_from_db()
    assert referrer.function == "medecin"
    assert '<option value="medecin" selected>' in text(client.get(reverse("referral-create")))

    # a later signalement with another function does not overwrite it; the account page does
    client.post(reverse("referral-create"), minimal_form_data(orgs["cidff92sud"], referrer_function="pmi"))
    referrer.refresh_from_db()
    assert referrer.function == "medecin"
    html = text(client.get(reverse("account")))
    assert 'name="function"' in html and '<option value="medecin" selected>' in html
    response = client.post(reverse("account_function"), {"function": "hopital"})
    assert response.status_code == 302
    referrer.refresh_from_db()
    assert referrer.function == "hopital"
    assert client.post(reverse("account_function"), {"function": "astronaute"}).status_code == 302
    referrer.refresh_from_db()
    assert referrer.function == "hopital"


def test_every_function_is_offered_exactly_once():
    from accounts.forms import REFERRER_FUNCTION_GROUPS
    from accounts.models import ReferrerFunction

    offered = [function for _group, functions in REFERRER_FUNCTION_GROUPS for function in functions]
    assert sorted(offered) == sorted(ReferrerFunction) and len(offered) == len(set(offered))


def test_only_a_referrer_has_a_function_on_her_account(api, users):
    client = api(users["coord_sud"])
    assert 'name="function"' not in text(client.get(reverse("account")))
    assert client.post(reverse("account_function"), {"function": "medecin"}).status_code == 404


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
