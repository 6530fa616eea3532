"""Field-level encryption of personal data (Fernet, several keys for rotation)."""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

UNREADABLE = "Donnée chiffrée illisible : aucune clé de VIGIE_FIELD_KEYS ne convient."


class _Keyring(MultiFernet):
    """All keys (decrypt), the first one (encrypt) kept apart to tell current tokens from old ones."""

    def __init__(self, fernets: list[Fernet]):
        super().__init__(fernets)
        self.primary = fernets[0]


@lru_cache(maxsize=1)
def _fernet() -> _Keyring:
    try:
        return _Keyring([Fernet(key) for key in settings.VIGIE_FIELD_KEYS])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured("VIGIE_FIELD_KEYS contient une clé Fernet invalide.") from exc


def encrypt_bytes(data: bytes) -> bytes:
    return _fernet().encrypt(data)


def decrypt_bytes(token: bytes) -> bytes:
    try:
        return _fernet().decrypt(token)
    except InvalidToken as exc:
        raise ImproperlyConfigured(UNREADABLE) from exc


def is_current_token(token: bytes) -> bool:
    """Whether the token is signed by the first (current) key; only its signature is checked."""
    try:
        _fernet().primary.extract_timestamp(token)
    except InvalidToken:
        return False
    return True


def rotate_token(token: bytes) -> bytes:
    """Re-encrypt a token under the first (current) key."""
    try:
        return _fernet().rotate(token)
    except InvalidToken as exc:
        raise ImproperlyConfigured(UNREADABLE) from exc


def encrypt_json(value) -> str:
    return encrypt_bytes(json.dumps(value, ensure_ascii=False, sort_keys=True).encode()).decode()


def decrypt_json(token: str):
    return json.loads(decrypt_bytes(token.encode()))
