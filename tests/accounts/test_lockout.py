"""The lockout belongs to the account, however its e-mail is typed; unknown names lock their source address."""

import pytest

from tests.auth import backup_code
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def web_login(client, email, password=TEST_PASSWORD, address="10.0.0.1"):
    return client.post("/connexion/", {"username": email, "password": password}, REMOTE_ADDR=address)


def api_token(client, email, otp, password=TEST_PASSWORD, address="10.0.0.1"):
    return client.post(
        "/api/v1/auth/token/",
        {"email": email, "password": password, "otp": otp},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def spellings(email):
    return [email, email.upper(), email[0].upper() + email[1:], "rE" + email[2:], f"  {email.upper()}  "]


def test_failures_under_any_spelling_count_against_one_account(client, users):
    user = users["referrer_hospital"]
    for spelling in spellings(user.email):  # five failures, each typed differently
        assert web_login(client, spelling, "mauvais").status_code in (200, 429)
    for spelling in spellings(user.email):  # locked under every spelling, right password or not, web and API
        assert web_login(client, spelling).status_code == 429, spelling
        assert api_token(client, spelling, backup_code(user)).status_code == 429, spelling


def test_the_case_trick_no_longer_unlocks(client, users):
    user = users["referrer_police"]
    for _ in range(5):
        web_login(client, user.email, "mauvais")
    assert web_login(client, user.email.upper()).status_code == 429
    assert web_login(client, "R" + user.email[1:], "mauvais").status_code == 429  # no extra guesses either


def test_a_locked_account_does_not_lock_its_colleagues_behind_the_same_address(client, users):
    for _ in range(5):
        web_login(client, users["referrer_ccas"].email, "mauvais")
    assert web_login(client, users["referrer_ccas"].email).status_code == 429
    assert web_login(client, users["coord_sud"].email).status_code == 302


def test_unknown_names_lock_their_source_address_not_the_accounts(client, users):
    for index in range(4):
        assert web_login(client, f"personne{index}@vigie.test", "mauvais", address="192.0.2.7").status_code == 200
    assert web_login(client, "personne4@vigie.test", "mauvais", address="192.0.2.7").status_code == 429
    assert web_login(client, "encore.un@vigie.test", "mauvais", address="192.0.2.7").status_code == 429
    assert web_login(client, "encore.un@vigie.test", "mauvais", address="192.0.2.8").status_code == 200
    assert web_login(client, users["coord_sud"].email, address="192.0.2.7").status_code == 302


def test_retyping_the_password_buys_no_more_code_guesses(client, users):
    user = users["coord_paris"]
    for _ in range(2):  # password right, then two wrong codes, twice over
        assert web_login(client, user.email).status_code == 302
        for _ in range(2):
            client.post("/connexion/code/", {"code": "123456"}, REMOTE_ADDR="10.0.0.1")
        client.post("/deconnexion/")
    assert web_login(client, user.email).status_code == 302
    assert client.post("/connexion/code/", {"code": "123456"}, REMOTE_ADDR="10.0.0.1").status_code == 429


def test_both_factors_given_forget_the_earlier_failures(client, users):
    user = users["coord_paris"]
    for _ in range(4):
        web_login(client, user.email, "mauvais")
    assert web_login(client, user.email).status_code == 302
    client.post("/connexion/code/", {"code": backup_code(user)}, REMOTE_ADDR="10.0.0.1")
    client.post("/deconnexion/")
    for _ in range(4):
        assert web_login(client, user.email, "mauvais").status_code == 200
