"""Second factor for every account: enrolment, the code step, backup codes, the API token, reset, demo codes."""

import datetime
import re

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken, LoginSession
from audit.models import AccessEvent
from tests.auth import backup_code, sign_in
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def totp_now(device: TOTPDevice, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = timezone.now().timestamp() + offset_steps * device.step
    return f"{totp.token():06d}"


def password_step(client, user, next_url="/dossiers/"):
    response = client.post("/connexion/", {"username": user.email, "password": TEST_PASSWORD, "next": next_url})
    assert response.status_code == 302
    return response


def token_request(client, user, otp):
    body = {"email": user.email, "password": TEST_PASSWORD}
    if otp is not None:
        body["otp"] = otp
    return client.post("/api/v1/auth/token/", body, content_type="application/json")


def test_first_login_walks_through_enrolment_then_shows_ten_backup_codes_once(client, users):
    user = users["eval2_sud"]
    TOTPDevice.objects.filter(user=user).delete()
    response = password_step(client, user)
    assert response.url.startswith("/connexion/code/")
    assert client.get("/dossiers/").url.startswith("/connexion/application/")  # nothing else is reachable
    page = client.get("/connexion/application/")
    html = page.content.decode()
    assert page.status_code == 200 and "<svg" in html and "QR code" in html  # drawn here, no external image
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    secret = re.search(r'class="enrol__secret">([A-Z2-7 ]+)<', html).group(1)
    assert len(secret.replace(" ", "")) == 32
    refused = client.post("/connexion/application/", {"code": "000000"})
    assert "Code incorrect" in refused.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    shown = client.post("/connexion/application/", {"code": totp_now(device), "next": "/dossiers/"})
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", shown.content.decode())
    assert len(codes) == 10 and len(set(codes)) == 10
    assert not StaticToken.objects.filter(token__in=codes).exists()  # stored as keyed digests only
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert client.get("/dossiers/").status_code == 200
    assert AccessEvent.objects.filter(action="otp.enrol", object_id=str(user.pk)).exists()


def test_every_login_asks_for_the_code_and_a_code_is_never_accepted_twice(client, users):
    user = users["coord_sud"]
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    password_step(client, user)
    assert client.get("/dossiers/").status_code == 302
    assert client.get("/api/v1/auth/me/").status_code == 401
    assert client.get("/admin/").status_code == 302
    page = client.get("/connexion/code/")
    assert "Code de vérification" in page.content.decode()
    code = totp_now(device)
    assert client.post("/connexion/code/", {"code": code, "next": "/dossiers/"}).url == "/dossiers/"
    assert client.get("/dossiers/").status_code == 200
    other = client.__class__()
    password_step(other, user)
    replay = other.post("/connexion/code/", {"code": code})
    assert replay.status_code == 200 and "déjà utilisé" in replay.content.decode()
    assert other.get("/dossiers/").status_code == 302


def test_a_backup_code_works_once_and_warns_how_many_are_left(client, users):
    user = users["coord_sud"]
    code = backup_code(user)
    password_step(client, user)
    response = client.post("/connexion/code/", {"code": code.upper(), "next": "/dossiers/"}, follow=True)
    assert response.status_code == 200 and "Code de secours utilisé" in response.content.decode()
    other = client.__class__()
    password_step(other, user)
    assert "déjà utilisé" in other.post("/connexion/code/", {"code": code}).content.decode()


def test_wrong_codes_count_as_failed_logins_and_lock_the_account(client, users):
    user = users["coord_nord"]
    password_step(client, user)
    for _ in range(4):
        assert client.post("/connexion/code/", {"code": "123456"}).status_code == 200
    locked = client.post("/connexion/code/", {"code": "123456"})
    assert locked.status_code == 429 and "verrouillé" in locked.content.decode()
    assert client.get("/dossiers/").status_code == 302  # logged out
    again = client.post("/connexion/", {"username": user.email, "password": TEST_PASSWORD})
    assert again.status_code == 429
    assert token_request(client, user, backup_code(user)).status_code == 429


def test_the_token_needs_a_valid_code_and_issues_nothing_otherwise(client, users):
    user = users["prosecutor_nanterre"]
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    for otp in (None, "", "abc"):
        response = token_request(client, user, otp)
        assert response.status_code == 401, otp
        assert "code" in response.json()["detail"].lower()
        device.refresh_from_db()
        device.throttling_failure_count = 0  # the device's own wait is tested below; here the answer
        device.save()
    assert not ApiToken.objects.filter(user=user).exists()
    code = totp_now(device)
    issued = token_request(client, user, code)
    assert issued.status_code == 200 and issued.json()["token"]
    assert token_request(client, user, code).status_code == 401  # the same code twice: refused


def test_wrong_api_codes_are_throttled_and_lock_the_account(client, users):
    user = users["operator"]
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    assert token_request(client, user, "000000").status_code == 401
    # the device now makes the next attempt wait: even the right code is refused during the wait
    assert token_request(client, user, totp_now(device)).status_code == 401
    statuses = [token_request(client, user, "000000").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=5)):
        assert token_request(client, user, totp_now(device)).status_code == 429  # locked, whatever the code


def test_delete_revokes_the_presented_token_only(client, users):
    user = users["coord_sud"]
    first = token_request(client, user, backup_code(user)).json()["token"]
    second = token_request(client, user, backup_code(user)).json()["token"]
    assert client.delete("/api/v1/auth/token/", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 204
    assert client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 401
    assert client.delete("/api/v1/auth/token/", HTTP_AUTHORIZATION=f"Bearer {first}").status_code == 401
    assert client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {second}").status_code == 200
    assert client.delete("/api/v1/auth/token/").status_code == 401


def test_logout_revokes_the_accounts_tokens(client, users):
    user = users["eval1_sud"]
    raw = token_request(client, user, backup_code(user)).json()["token"]
    sign_in(client, user)
    assert client.post("/deconnexion/").status_code == 302
    assert client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert not LoginSession.objects.filter(user=user).exists()


def test_account_page_lists_and_revokes_only_ones_own_tokens(api, users, client):
    user, other = users["coord_sud"], users["coord_nord"]
    token_request(client, user, backup_code(user))
    token_request(client, other, backup_code(other))
    mine = ApiToken.objects.get(user=user)
    theirs = ApiToken.objects.get(user=other)
    browser = api(user)
    page = browser.get("/compte/").content.decode()
    assert f"n° {mine.pk}" in page and f"n° {theirs.pk}" not in page
    assert browser.post(f"/compte/jetons/{theirs.pk}/revoquer/").status_code == 404
    assert ApiToken.objects.filter(pk=theirs.pk).exists()
    browser.post(f"/compte/jetons/{mine.pk}/revoquer/")
    assert not ApiToken.objects.filter(pk=mine.pk).exists()
    assert browser.get("/compte/jetons/abc/revoquer/").status_code == 404


def test_new_backup_codes_replace_the_old_ones(api, users):
    user = users["coord_sud"]
    old = backup_code(user)
    page = api(user).post("/compte/codes-de-secours/").content.decode()
    assert len(re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page)) == 10
    assert StaticToken.objects.filter(device__user=user).count() == 10
    assert StaticDevice.objects.filter(user=user).count() == 1
    client = api(None)
    password_step(client, user)
    assert "déjà utilisé" in client.post("/connexion/code/", {"code": old}).content.decode()


def test_password_change_ends_other_sessions_and_tokens(api, users, client):
    user = users["eval1_sud"]
    elsewhere = api(user)
    raw = token_request(client, user, backup_code(user)).json()["token"]
    here = api(user)
    response = here.post(
        "/compte/mot-de-passe/",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": "Un autre secret 2027 !",
            "new_password2": "Un autre secret 2027 !",
        },
    )
    assert response.status_code == 302
    assert here.get("/dossiers/").status_code == 200
    assert elsewhere.get("/dossiers/").status_code == 302
    assert client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401


def test_supervisor_resets_a_lost_phone_in_the_admin(api, users, client):
    user = users["eval_nord"]
    victim_session = api(user)
    raw = token_request(client, user, backup_code(user)).json()["token"]
    admin = api(users["supervisor"])
    assert "active" in admin.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()
    response = admin.post(
        "/admin/accounts/user/", {"action": "reset_second_factor", "_selected_action": [user.pk]}, follow=True
    )
    assert "Double authentification réinitialisée" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=user).exists() and not StaticDevice.objects.filter(user=user).exists()
    assert victim_session.get("/dossiers/").status_code == 302
    assert client.get("/api/v1/auth/me/", HTTP_AUTHORIZATION=f"Bearer {raw}").status_code == 401
    assert AccessEvent.objects.filter(action="otp.reset", object_id=str(user.pk)).exists()
    fresh = api(None)
    assert password_step(fresh, user)
    assert fresh.get("/connexion/code/").url.startswith("/connexion/application/")


def test_reset_is_refused_to_everyone_but_supervisors(api, users):
    user = users["eval_nord"]
    for role in ("coord_nord", "prosecutor_nanterre", "operator"):
        response = api(users[role]).post(
            "/admin/accounts/user/", {"action": "reset_second_factor", "_selected_action": [user.pk]}
        )
        assert response.status_code in (302, 403)
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_the_admin_is_an_otp_admin_site(client, users):
    supervisor = users["supervisor"]
    password_step(client, supervisor, next_url="/admin/")
    assert client.get("/admin/").status_code == 302  # password alone does not open the admin
    client.post("/connexion/code/", {"code": backup_code(supervisor)})
    assert client.get("/admin/").status_code == 200
    login_page = client.get("/admin/login/")
    assert login_page.status_code == 302  # a verified supervisor is sent to the index, never to a second form


def test_demo_otp_prints_a_working_code_in_demo_mode_only(client, users, settings, capsys):
    user = users["referrer_ccas"]
    call_command("demo_otp", user.email.upper())
    code = capsys.readouterr().out.strip()
    assert re.fullmatch(r"\d{6}", code)
    assert token_request(client, user, code).status_code == 200
    with pytest.raises(CommandError, match="compte de démonstration"):
        call_command("demo_otp", "inconnu@vigie.test")
    settings.VIGIE_DEMO = False
    with pytest.raises(CommandError, match="mode démonstration"):
        call_command("demo_otp", user.email)


def test_code_page_says_how_to_get_a_demo_code_in_demo_mode(client, users, settings):
    user = users["referrer_ccas"]
    password_step(client, user)
    assert "demo_otp" in client.get("/connexion/code/").content.decode()
    settings.VIGIE_DEMO = False
    assert "demo_otp" not in client.get("/connexion/code/").content.decode()
