"""A new account is invited to choose its own password: the supervisor never knows it, so nobody else can pass the
password step first and enrol their own authenticator in the owner's name."""

import re

from django.core import mail

from accounts.models import User
from audit.models import AccessEvent
from tests.auth import sign_in

NEW = {
    "email": "Nouvelle.Evaluatrice@vigie.test",
    "first_name": "Nadia",
    "last_name": "Benali",
    "role": "evaluator",
}
STRONG = "Un secret bien à moi 2027 !"


def _link(message) -> str:
    return re.search(r"https?://\S+", message.body).group(0)


def test_a_new_account_chooses_its_own_password_through_the_e_mailed_link(
    api, users, orgs, client, django_capture_on_commit_callbacks
):
    admin = api(users["supervisor"])
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post("/admin/accounts/user/add/", {**NEW, "organisation": orgs["cidff92sud"].pk})
    assert response.status_code == 302, response.content.decode()[:2000]
    person = User.objects.get(email="nouvelle.evaluatrice@vigie.test")
    assert not person.has_usable_password()
    assert AccessEvent.objects.filter(action="user.invite", object_id=str(person.pk)).exists()

    [message] = mail.outbox
    assert message.to == ["nouvelle.evaluatrice@vigie.test"]
    assert "Nadia" not in message.body and "Benali" not in message.body  # no personal data in e-mails
    link = _link(message)

    form = client.get(link, follow=True)
    assert form.status_code == 200
    done = client.post(form.redirect_chain[-1][0], {"new_password1": STRONG, "new_password2": STRONG})
    assert done.status_code == 302
    person.refresh_from_db()
    assert person.check_password(STRONG)
    assert client.get(link, follow=True).context["validlink"] is False  # single use

    login = client.post("/connexion/", {"username": person.email, "password": STRONG}, follow=True)
    assert login.request["PATH_INFO"] == "/connexion/application/"  # enrolment comes next


def test_the_creation_form_takes_no_password(api, users):
    page = api(users["supervisor"]).get("/admin/accounts/user/add/").content.decode()
    assert 'name="email"' in page and 'name="password1"' not in page and 'name="password2"' not in page


def test_an_invited_person_who_lost_the_e_mail_asks_for_a_new_link(api, users, orgs, client):
    api(users["supervisor"]).post("/admin/accounts/user/add/", {**NEW, "organisation": orgs["cidff92sud"].pk})
    assert User.objects.filter(email__iexact=NEW["email"]).exists()
    client.post("/mot-de-passe/oubli/", {"email": "NOUVELLE.evaluatrice@vigie.test"})
    assert len(mail.outbox) == 1 and _link(mail.outbox[0]).startswith("http")


def test_a_bad_creation_changes_nothing(api, users, orgs):
    response = api(users["supervisor"]).post(
        "/admin/accounts/user/add/", {**NEW, "role": "evaluator", "organisation": orgs["parquet_nanterre"].pk}
    )
    assert response.status_code == 200
    assert not User.objects.filter(email__iexact=NEW["email"]).exists() and mail.outbox == []


def test_only_the_supervisor_creates_accounts(api, users, orgs):
    for role in ("coord_sud", "prosecutor_nanterre", "referrer_ccas"):
        client = sign_in(api(None), users[role])
        response = client.post("/admin/accounts/user/add/", {**NEW, "organisation": orgs["cidff92sud"].pk})
        assert response.status_code in (302, 403) and not response.get("Location", "").endswith("/change/")
    assert not User.objects.filter(email__iexact=NEW["email"]).exists() and mail.outbox == []
