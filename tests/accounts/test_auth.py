"""Login, lockout, sessions, tokens, deactivation, password reset, and the account endpoints."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiToken, User
from accounts.services import user_create, user_deactivate
from tests.auth import backup_code, sign_in
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def login(client, email, password=TEST_PASSWORD):
    """Step one only: the password (the session is not verified yet)."""
    return client.post("/connexion/", {"username": email, "password": password})


def login_with_code(client, email, password=TEST_PASSWORD):
    """Both steps, the code being a fresh backup code."""
    response = login(client, email, password)
    assert response.status_code == 302
    user = User.objects.get(email__iexact=email)
    return client.post("/connexion/code/", {"code": backup_code(user), "next": "/dossiers/"})


def token(client, email, password=TEST_PASSWORD, otp=None):
    if otp is None:
        user = User.objects.filter(email__iexact=email).first()
        otp = backup_code(user) if user else "000000"
    return client.post(
        "/api/v1/auth/token/", {"email": email, "password": password, "otp": otp}, content_type="application/json"
    )


def test_login_page_is_french_and_login_rotates_the_session(client, users):
    page = client.get("/connexion/")
    assert page.status_code == 200 and "Adresse e-mail" in page.content.decode()
    client.get("/connexion/")
    before = client.cookies.get("sessionid")
    response = login(client, users["coord_sud"].email)
    assert response.status_code == 302 and response.url.startswith("/connexion/code/")
    after = client.cookies["sessionid"]
    assert after.value and (before is None or before.value != after.value)
    assert after["httponly"]


def test_wrong_password_is_a_french_error(client, users):
    response = login(client, users["coord_sud"].email, "mauvais")
    assert response.status_code == 200
    assert "Adresse e-mail ou mot de passe incorrect." in response.content.decode()


def test_five_failures_lock_the_account_with_429(client, users):
    email = users["coord_sud"].email
    for _ in range(5):
        login(client, email, "mauvais")
    response = login(client, email)  # even the right password is refused now
    assert response.status_code == 429
    assert "verrouillé" in response.content.decode()
    api_response = token(client, email)
    assert api_response.status_code == 429
    assert "verrouillé" in api_response.json()["detail"]
    # another account is not affected
    assert login(client, users["coord_nord"].email).status_code == 302


def test_api_lockout_after_five_token_failures(client, users):
    email = users["eval1_sud"].email
    statuses = [token(client, email, "mauvais").status_code for _ in range(5)]
    assert statuses == [401] * 4 + [429]  # the fifth failure locks the account
    assert token(client, email).status_code == 429


def test_token_is_hashed_expires_and_works_as_bearer(client, users):
    response = token(client, users["coord_sud"].email)
    assert response.status_code == 200
    raw = response.json()["token"]
    assert not ApiToken.objects.filter(key_hash=raw).exists()
    me = client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert me.status_code == 200
    assert me.json()["email"] == users["coord_sud"].email and me.json()["role"] == "cidff_coordinator"
    assert me.json()["organisation"]["name"] == "CIDFF 92 Sud"
    assert client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION="Bearer nope").status_code == 401
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=9)):
        assert client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_token_request_validates_its_body(client):
    assert client.post("/api/v1/auth/token/", {}, content_type="application/json").status_code == 400
    response = client.post(
        "/api/v1/auth/token/", {"email": "pas-un-email", "password": "x"}, content_type="application/json"
    )
    assert response.status_code == 400 and "email" in response.json()


def test_deactivation_kills_sessions_and_tokens_at_once(client, users, make_referral):
    coordinator = users["coord_sud"]
    referral = make_referral("submitted")
    raw = token(client, coordinator.email).json()["token"]
    login_with_code(client, coordinator.email)
    assert client.get(f"/api/v1/referrals/{referral.pk}/").status_code == 200
    user_deactivate(actor=users["supervisor"], user=coordinator)
    assert client.get(f"/api/v1/referrals/{referral.pk}/").status_code in (401, 403)
    assert client.get("/dossiers/").status_code == 302
    assert client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert not ApiToken.objects.filter(user=coordinator).exists()
    assert token(client, coordinator.email).status_code == 401
    # re-activation revives nothing: the session was deleted, not only made unresolvable
    User.objects.filter(pk=coordinator.pk).update(is_active=True)
    assert client.get("/dossiers/").status_code == 302
    assert client.get("/api/v1/auth/me/").status_code in (401, 403)


def test_idle_session_expires_after_30_minutes(client, users):
    sign_in(client, users["coord_sud"])
    assert client.get("/api/v1/auth/me/").status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=20)):
        assert client.get("/api/v1/auth/me/").status_code == 200
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=51)):
        assert client.get("/api/v1/auth/me/").status_code in (401, 403)


def test_the_idle_expiry_slides_with_one_session_write_a_minute_at_most(client, users):
    def session_writes(path="/api/v1/auth/me/"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(path).status_code == 200
        return [q["sql"] for q in queries if q["sql"].startswith('UPDATE "django_session"')]

    sign_in(client, users["coord_sud"])
    session_writes()
    assert session_writes() == []  # within the minute: nothing written
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=2)):
        assert len(session_writes()) == 1  # the expiry slides


def test_session_ends_after_12_hours_even_when_active(client, users):
    sign_in(client, users["coord_sud"])
    start = timezone.now()
    for minutes in range(20, 12 * 60, 20):  # active every 20 minutes: the idle limit never hits
        with time_machine.travel(start + datetime.timedelta(minutes=minutes)):
            assert client.get("/api/v1/auth/me/").status_code == 200
    with time_machine.travel(start + datetime.timedelta(hours=12, minutes=5)):
        assert client.get("/dossiers/").status_code == 302


def test_password_reset_mail_has_a_link_and_no_personal_data(client, users):
    user = users["coord_sud"]
    response = client.post("/mot-de-passe/oubli/", {"email": user.email})
    assert response.status_code == 302
    unknown = client.post("/mot-de-passe/oubli/", {"email": "inconnu@vigie.test"})
    assert unknown.status_code == 302  # no account enumeration
    [message] = mail.outbox
    assert message.to == [user.email]
    assert "/mot-de-passe/nouveau/" in message.body
    assert user.last_name not in message.body and user.first_name not in message.body


def test_organisations_filter_by_kind(api, users):
    data = api(users["referrer_ccas"]).get("/api/v1/organisations/?kind=cidff").json()
    assert {o["name"] for o in data["results"]} == {"CIDFF 92 Sud", "CIDFF 92 Nord", "CIDFF de Paris"}
    assert api(users["referrer_ccas"]).get("/api/v1/organisations/?kind=martien").status_code == 400


def test_users_endpoint_shows_a_coordinator_only_her_own_staff(api, users):
    data = api(users["coord_sud"]).get("/api/v1/users/?role=evaluator").json()
    assert {u["email"] for u in data["results"]} == {users["eval1_sud"].email, users["eval2_sud"].email}
    for other in ("referrer_ccas", "eval1_sud", "prosecutor_nanterre", "operator"):
        assert api(users[other]).get("/api/v1/users/").json()["results"] == []


def test_roles_must_match_the_organisation_kind(orgs):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        user_create(email="x@vigie.test", role="evaluator", organisation=orgs["ccas"])
    with pytest.raises(ValidationError):
        user_create(email="y@vigie.test", role="referrer", organisation=None)


def test_supervisor_admin_is_read_only_on_dossiers_and_journaled(api, users, make_referral):
    from audit.models import AccessEvent

    referral = make_referral("received")
    client = api(users["supervisor"])
    assert client.get("/admin/").status_code == 200
    page = client.get(f"/admin/referrals/referral/{referral.pk}/change/")
    assert page.status_code == 200
    assert referral.victim["last_name"] not in page.content.decode()
    assert AccessEvent.objects.filter(action="admin.referral.view", object_id=str(referral.pk)).exists()
    assert client.post(f"/admin/referrals/referral/{referral.pk}/delete/").status_code == 403
    assert api(users["coord_sud"]).get("/admin/").status_code == 302


def test_admin_deactivation_goes_through_the_service(api, users):
    target = users["eval2_sud"]
    raw = token(api(None), target.email).json()["token"]
    client = api(users["supervisor"])
    response = client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        {
            "email": target.email,
            "first_name": target.first_name,
            "last_name": target.last_name,
            "role": target.role,
            "organisation": target.organisation_id,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    target.refresh_from_db()
    assert not target.is_active
    assert client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
