"""The journal's secret: HMAC-SHA256 seals under VIGIE_AUDIT_KEY, a key the database never holds."""

import hashlib
import hmac
import json

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

GENESIS = "0" * 64  # what the first event of a journal chains to


def audit_key() -> bytes:
    key = getattr(settings, "VIGIE_AUDIT_KEY", "") or ""
    if len(key) < 32:
        raise ImproperlyConfigured("VIGIE_AUDIT_KEY manque ou est trop courte (32 caractères au moins).")
    return key.encode()


def seal(domain: str, payload) -> str:
    """HMAC-SHA256 of `payload` (canonical JSON), separated by `domain` from every other kind of seal."""
    message = domain.encode() + b"\n" + canonical(payload).encode()
    return hmac.new(audit_key(), message, hashlib.sha256).hexdigest()


def key_id() -> str:
    """A short public name of the key: tells which key sealed a checkpoint without revealing it."""
    return seal("vigie-audit-key-id", None)[:16]


def canonical(payload) -> str:
    return json.dumps(payload, separators=(",", ":"), sort_keys=True, ensure_ascii=True)


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())
