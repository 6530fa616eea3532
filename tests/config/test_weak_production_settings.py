"""Production refuses a weak configuration at start-up, names what is wrong in French, never echoes a secret."""

import base64
import os
import secrets
import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from tests.config.test_settings_and_headers import PRODUCTION_ENV, ROOT, manage

FIELD_KEY = PRODUCTION_ENV["VIGIE_FIELD_KEYS"]
AUDIT_KEY = PRODUCTION_ENV["VIGIE_AUDIT_KEY"]


def load_settings(**env):
    """Import the settings in a fresh interpreter with exactly `env` (as manage.py would at start-up)."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VIGIE_", "DATABASE_URL", "SECRET_KEY", "CELERY_", "ALLOWED_HOSTS", "DEBUG"))
    }
    return subprocess.run(
        [sys.executable, "-c", "import config.settings"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def refused(**overrides) -> str:
    """The start-up error for the strong production environment with `overrides` (None removes a variable)."""
    env = {k: v for k, v in {**PRODUCTION_ENV, **overrides}.items() if v is not None}
    result = load_settings(**env)
    assert result.returncode != 0, "the settings should have refused this environment"
    assert "ImproperlyConfigured" in result.stderr and "VIGIE_ENV=production refuse de démarrer" in result.stderr
    return result.stderr


def test_the_strong_environment_loads():
    result = load_settings(**PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr


def test_a_strong_environment_with_rotation_keys_and_a_domain_passes_check_deploy():
    env = {
        **PRODUCTION_ENV,
        "VIGIE_FIELD_KEYS": f"{Fernet.generate_key().decode()}, {FIELD_KEY}",
        "ALLOWED_HOSTS": "vigie.example.fr,.tgd.justice.example.fr",
    }
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_debug_is_refused():
    assert "DEBUG doit être désactivé" in refused(DEBUG="1")
    assert "DEBUG doit être désactivé" in refused(DEBUG="True")


@pytest.mark.parametrize("hosts", ["*", "vigie.example.fr,*", "*.example.fr", ".fr", "."])
def test_wildcard_hosts_are_refused(hosts):
    error = refused(ALLOWED_HOSTS=hosts)
    assert "ALLOWED_HOSTS ne doit pas contenir de joker" in error


@pytest.mark.parametrize(
    "secret_key",
    [
        secrets.token_urlsafe(64)[:49],  # one character short
        "a" * 64,  # long, but a single character
        "abcd" * 16,  # four distinct characters
        "django-insecure-" + secrets.token_urlsafe(64),  # Django's throwaway development key
    ],
    ids=["49-characters", "one-character", "four-distinct", "django-insecure"],
)
def test_weak_secret_keys_are_refused_without_being_echoed(secret_key):
    error = refused(SECRET_KEY=secret_key)
    assert "SECRET_KEY est trop faible : 50 caractères variés au moins" in error
    assert secret_key not in error


@pytest.mark.parametrize(
    "keys, rank",
    [
        ("pas-une-cle-fernet", "1"),
        (f"{FIELD_KEY},{base64.urlsafe_b64encode(secrets.token_bytes(31)).decode()}", "2"),  # 31 bytes
        (base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("="), "1"),  # padding dropped
        (base64.b64encode(b"\xfb\xff" * 16).decode(), "1"),  # standard base64 ("+", "/"), not urlsafe
        (f"{FIELD_KEY},{FIELD_KEY[:-1]}!", "2"),
    ],
    ids=["not-base64", "31-bytes", "unpadded", "standard-base64", "stray-character"],
)
def test_invalid_field_keys_are_refused_by_rank_without_being_echoed(keys, rank):
    error = refused(VIGIE_FIELD_KEYS=keys)
    assert f"VIGIE_FIELD_KEYS : clé n° {rank} invalide" in error
    for key in keys.split(","):
        assert key not in error


@pytest.mark.parametrize("name", ["VIGIE_AUDIT_KEY", "VIGIE_INDEX_KEY"])
def test_audit_and_index_keys_are_required_and_long(name):
    assert f"variables manquantes : {name}" in refused(**{name: None})
    assert f"variables manquantes : {name}" in refused(**{name: "  "})
    short = secrets.token_urlsafe(32)[:31]
    error = refused(**{name: short})
    assert f"{name} est trop courte : 32 caractères au moins" in error and short not in error


@pytest.mark.parametrize(
    "index_key",
    [FIELD_KEY, AUDIT_KEY],
    ids=["a-field-key", "the-audit-key"],
)
def test_the_index_key_is_a_key_of_its_own(index_key):
    env = {"VIGIE_FIELD_KEYS": f"{Fernet.generate_key().decode()},{FIELD_KEY}", "VIGIE_INDEX_KEY": index_key}
    error = refused(**env)
    assert "VIGIE_INDEX_KEY doit être une clé à part" in error and index_key not in error


def test_every_weakness_is_named_at_once():
    error = refused(DEBUG="1", ALLOWED_HOSTS="*", SECRET_KEY="court", VIGIE_FIELD_KEYS="x", VIGIE_AUDIT_KEY=None)
    for expected in (
        "variables manquantes : VIGIE_AUDIT_KEY",
        "DEBUG",
        "ALLOWED_HOSTS",
        "SECRET_KEY est trop faible",
        "VIGIE_FIELD_KEYS : clé n° 1 invalide",
    ):
        assert expected in error


def test_the_embedded_default_is_not_held_to_production_rules():
    result = load_settings(VIGIE_ENV="embedded", DEBUG="1", ALLOWED_HOSTS="*", SECRET_KEY="court", VIGIE_FIELD_KEYS="x")
    assert result.returncode == 0, result.stderr
