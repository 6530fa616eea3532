"""Signing in as the tests need it: a session past the second factor, a fresh backup code, a bearer token."""

from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.second_factor import BACKUP_NAME, TOTP_NAME, backup_digest
from tests.factories import TEST_PASSWORD


def sign_in(client: Client, user) -> Client:
    """`client` logged in as `user` with a verified second factor (the account is enrolled if it was not)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def backup_code(user) -> str:
    """A new single-use backup code for `user` (added to their set: the others stay valid)."""
    device = StaticDevice.objects.filter(user=user).first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
    code = StaticToken.random_token()
    StaticToken.objects.create(device=device, token=backup_digest(code))
    return code


def bearer_token(client: Client, user, password: str = TEST_PASSWORD) -> str:
    """A token obtained the real way: POST /api/v1/auth/token/ with the password and a backup code."""
    response = client.post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": password, "otp": backup_code(user)},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]
