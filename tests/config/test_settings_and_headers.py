"""Configuration: production refuses to start half-configured; every response carries the security headers."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "VIGIE_ENV": "production",
    "SECRET_KEY": secrets.token_urlsafe(64),
    "DATABASE_URL": "postgres://root@127.0.0.1:5432/vigie",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "VIGIE_FIELD_KEYS": Fernet.generate_key().decode(),
    "ALLOWED_HOSTS": "vigie.example.fr",
    "VIGIE_AUDIT_KEY": secrets.token_urlsafe(48),
    "VIGIE_INDEX_KEY": secrets.token_urlsafe(48),
}


def manage(*args, **env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("VIGIE_", "DATABASE_URL", "SECRET_KEY", "CELERY_", "ALLOWED_HOSTS"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "VIGIE_FIELD_KEYS"])
def test_production_refuses_to_start_and_names_what_is_missing(missing):
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != missing}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "refuse de démarrer" in result.stderr and missing in result.stderr


def test_production_refuses_demo_mode_and_sqlite():
    assert "VIGIE_DEMO" in manage("check", **PRODUCTION_ENV, VIGIE_DEMO="1").stderr
    assert "PostgreSQL" in manage("check", **{**PRODUCTION_ENV, "DATABASE_URL": "sqlite:////tmp/x.db"}).stderr


def test_production_passes_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr + result.stdout


@pytest.mark.django_db
def test_html_pages_carry_csp_and_security_headers(api, users):
    response = api(users["coord_sud"]).get("/dossiers/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'self' 'nonce-"):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Cache-Control"] == "no-store"


@pytest.mark.django_db
def test_api_schema_and_docs_are_served_locally_to_signed_in_users(api, users):
    assert api(None).get("/api/v1/schema/").status_code == 401
    client = api(users["coord_sud"])
    schema = client.get("/api/v1/schema/")
    assert schema.status_code == 200 and b"/api/v1/referrals/" in schema.content
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "cdn" not in html.lower() and "/static/drf_spectacular_sidecar/" in html
