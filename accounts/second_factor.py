"""The second factor (django-otp): TOTP enrolment, code checks, backup codes and the supervisor's reset.

Every account has one confirmed TOTP device and a set of single-use backup codes. Backup codes are
stored as keyed digests, never as typed: a copy of the database does not open an account.
"""

import base64
import hashlib
import hmac

import segno
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django_otp import devices_for_user
from django_otp import login as otp_login
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import User
from accounts.sessions import access_end
from audit.services import audit_record

TOTP_NAME = "Application d'authentification"
BACKUP_NAME = "Codes de secours"


def normalise_code(code) -> str:
    """What the person meant: spaces and dashes are layout, backup codes are case-insensitive."""
    return "".join(ch for ch in str(code or "") if ch not in " -\t").lower()


def backup_digest(code: str) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), f"vigie-backup:{code}".encode(), hashlib.sha256)
    return digest.hexdigest()[:16]


def second_factor_enrolled(*, user: User) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def totp_pending(*, user: User) -> TOTPDevice:
    """The not-yet-confirmed TOTP device the enrolment page shows (the same one until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=False)


def totp_secret_text(device: TOTPDevice) -> str:
    """The key as an authenticator application expects it typed: base32, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def totp_qr_svg(device: TOTPDevice) -> str:
    """The enrolment QR code, drawn here as inline SVG (the key never leaves the server for a QR service)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=5, title="QR code d'enrôlement Vigie")


def backup_codes_renew(*, user: User) -> list[str]:
    """Ten new single-use codes; the previous ones stop working. Returned once, stored as digests."""
    codes = [StaticToken.random_token() for _ in range(settings.VIGIE_BACKUP_CODES)]
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=BACKUP_NAME, confirmed=True)
        StaticToken.objects.bulk_create(StaticToken(device=device, token=backup_digest(code)) for code in codes)
        audit_record(actor=user, action="otp.backup_codes", obj=user)
    return codes


def backup_codes_left(*, user: User) -> int:
    return StaticToken.objects.filter(device__user=user).count()


def totp_confirm(*, request, user: User, code: str) -> list[str] | None:
    """Enrolment: the first code proves the application holds the key. Returns the backup codes, or None."""
    with transaction.atomic():
        device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("id").first()
        if device is None or not device.verify_token(normalise_code(code)):
            return None
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit_record(actor=user, action="otp.enrol", obj=user)
    codes = backup_codes_renew(user=user)
    second_factor_passed(request=request, user=user, device=device)
    return codes


def second_factor_match(*, user: User, code: str) -> Device | None:
    """The confirmed device that accepts `code` (TOTP first, then a backup code, which is then spent).

    Each device throttles itself (exponential wait after a wrong code) and refuses a TOTP code twice.
    """
    code = normalise_code(code)
    if not code:
        return None
    with transaction.atomic():
        for device in devices_for_user(user, for_verify=True):
            candidate = backup_digest(code) if isinstance(device, StaticDevice) else code
            if device.verify_token(candidate):
                return device
    return None


def second_factor_passed(*, request, user: User, device: Device) -> None:
    """Both factors given: the session (if any) is verified and the account's failed attempts are forgotten."""
    if request is not None:
        otp_login(request, device)
    axes_reset(username=user.email)


def second_factor_refused(*, request, user: User) -> None:
    """A wrong code is a failed login: django-axes counts it against the account, the journal records it."""
    user_login_failed.send(sender=__name__, credentials={"username": user.email}, request=request)


def second_factor_reset(*, actor: User, user: User) -> None:
    """Lost phone: the devices are deleted and every access ends; the person re-enrols at the next login."""
    with transaction.atomic():
        for model in (TOTPDevice, StaticDevice):
            model.objects.filter(user=user).delete()
        access_end(user=user)
        audit_record(actor=actor, action="otp.reset", obj=user)


def demo_code(*, user: User) -> str:
    """The current TOTP code of a demo account (demo mode only: the caller checks)."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def demo_enrol(*, user: User) -> None:
    """A demo account arrives enrolled: a confirmed TOTP device whose codes `demo_otp` prints."""
    if not second_factor_enrolled(user=user):
        TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=True)
