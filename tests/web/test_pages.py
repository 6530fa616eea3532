"""Every page renders in French for its role; what is not visible answers 404."""

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import TEST_PASSWORD
from tests.web.helpers import assert_csp_safe, text

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get(reverse("referral-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_is_french_accessible_and_csp_safe(client):
    response = client.get(reverse("login"))
    html = text(response)
    assert response.status_code == 200
    assert '<html lang="fr">' in html
    assert 'href="#contenu"' in html and 'id="contenu"' in html
    assert '<label class="field__label" for="id_username">Adresse e-mail' in html
    assert "Mot de passe oublié" in html
    assert "Content-Security-Policy" in response.headers
    assert_csp_safe(html)


def test_login_with_the_form_then_logout_with_a_post(client, users):
    response = client.post(
        reverse("login"), {"username": users["referrer_ccas"].email, "password": TEST_PASSWORD}, follow=True
    )
    html = text(response)
    assert response.status_code == 200
    assert "Mes signalements" in html and "Claire Martin" in html and "CCAS de Boulogne-Billancourt" in html
    assert 'action="/deconnexion/"' in html
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("referral-list")).status_code == 302


def test_wrong_password_shows_a_french_error(client, users):
    response = client.post(reverse("login"), {"username": users["referrer_ccas"].email, "password": "faux"})
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in text(response)


def test_password_reset_mail_holds_the_link_and_no_personal_data(client, users):
    user = users["coord_sud"]
    response = client.post(reverse("password_reset"), {"email": user.email}, follow=True)
    assert response.status_code == 200
    assert "Vérifiez votre messagerie" in text(response)
    [message] = mail.outbox
    assert message.subject == "[Vigie] Réinitialisation de votre mot de passe"
    assert "/mot-de-passe/nouveau/" in message.body
    for personal in (user.first_name, user.last_name, user.email, user.organisation.name):
        assert personal not in message.body


@pytest.mark.parametrize("name", ["password_reset", "password_reset_done", "password_reset_complete"])
def test_password_reset_pages_render(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert_csp_safe(text(response))


def test_password_reset_with_a_bad_link_says_so(client):
    response = client.get(reverse("password_reset_confirm", args=["MQ", "mauvais-jeton"]))
    assert response.status_code == 200
    assert "Ce lien n'est plus valable" in text(response)


def test_home_sends_each_role_to_its_page(api, users):
    assert api(users["referrer_ccas"]).get(reverse("home"))["Location"] == reverse("referral-list")
    assert api(users["supervisor"]).get(reverse("home"))["Location"] == reverse("admin:index")
    assert api(users["prosecutor_nanterre"]).get(reverse("home"))["Location"] == reverse("decision-inbox")
    assert api(users["operator"]).get(reverse("home"))["Location"] == reverse("sheet-list")


@pytest.mark.parametrize(
    "user_key, state, url_name, expected",
    [
        ("referrer_ccas", None, "referral-list", "Mes signalements"),
        ("referrer_ccas", None, "referral-create", "Nouveau signalement"),
        ("referrer_ccas", "draft", "referral-detail", "Brouillon SIG-"),
        ("referrer_ccas", "draft", "referral-edit", "Enregistrer le brouillon"),
        ("referrer_ccas", "submitted", "referral-detail", "Retirer le signalement"),
        ("coord_sud", None, "referral-list", "Dossiers reçus"),
        ("coord_sud", "submitted", "referral-detail", "Accuser réception"),
        ("coord_sud", "received", "referral-detail", "Transférer à un autre CIDFF"),
        ("coord_sud", "evaluation", "referral-detail", "Réattribuer"),
        ("eval1_sud", None, "referral-list", "Mes dossiers"),
        ("eval1_sud", "evaluation", "referral-detail", "Historique du dossier"),
        ("prosecutor_nanterre", None, "referral-list", "Dossiers"),
    ],
)
def test_each_page_renders_for_its_role(api, users, make_referral, user_key, state, url_name, expected):
    args = [make_referral(state).pk] if state else []
    response = api(users[user_key]).get(reverse(url_name, args=args))
    html = text(response)
    assert response.status_code == 200, html[:500]
    assert expected in html
    assert "Confidentiel" in html and "Vigie — données confidentielles" in html
    assert response["Cache-Control"] == "no-store"
    assert_csp_safe(html)


def test_navigation_marks_the_current_page(api, users):
    html = text(api(users["coord_sud"]).get(reverse("referral-list")))
    assert '<a class="site-nav__link" href="/dossiers/" aria-current="page">Dossiers reçus</a>' in html


def test_a_dossier_of_another_organisation_is_not_found(api, users, make_referral):
    referral = make_referral("submitted", cidff="cidff92sud")
    client = api(users["coord_nord"])
    assert client.get(reverse("referral-detail", args=[referral.pk])).status_code == 404
    assert client.get(reverse("referral-edit", args=[referral.pk])).status_code == 404
    assert client.post(reverse("referral-action", args=[referral.pk, "acknowledge"])).status_code == 404
    assert client.post(reverse("referral-document-upload", args=[referral.pk])).status_code == 404
    response = client.get(reverse("referral-detail", args=[referral.pk]))
    assert "introuvable" in text(response)
    referral.refresh_from_db()
    assert referral.status == "submitted"


def test_another_referrers_draft_is_not_found(api, users, make_referral):
    referral = make_referral("draft", referrer="referrer_ccas")
    client = api(users["referrer_police"])
    assert client.get(reverse("referral-detail", args=[referral.pk])).status_code == 404
    assert client.get(reverse("referral-edit", args=[referral.pk])).status_code == 404


def test_only_referrers_get_the_create_form(api, users):
    response = api(users["coord_sud"]).get(reverse("referral-create"))
    assert response.status_code == 403
    assert "Seul un professionnel référent" in text(response)


def test_the_coordinator_cannot_open_the_edit_form(api, users, make_referral):
    referral = make_referral("submitted")
    assert api(users["coord_sud"]).get(reverse("referral-edit", args=[referral.pk])).status_code == 403


def test_detail_opening_is_journaled(api, users, make_referral):
    from audit.models import AccessEvent

    referral = make_referral("received")
    api(users["coord_sud"]).get(reverse("referral-detail", args=[referral.pk]))
    assert AccessEvent.objects.filter(action="referral.view", object_id=str(referral.pk)).count() == 1


def test_the_lockout_page_is_french(client, users):
    email = users["coord_sud"].email
    for _ in range(5):
        client.post(reverse("login"), {"username": email, "password": "faux"})
    response = client.post(reverse("login"), {"username": email, "password": TEST_PASSWORD})
    html = text(response)
    assert response.status_code == 429
    assert "<h1>Compte verrouillé</h1>" in html and "Réessayez dans" in html
    assert_csp_safe(html)
