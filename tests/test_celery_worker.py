"""A real Celery worker against Redis sends the CIDFF's new-referral e-mail (no personal data)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection

from config.celery import app as celery_app
from referrals import services

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def broker_url():
    """The tests' own Redis database, emptied first (fails loudly if Redis is down).

    `make test` sets CELERY_BROKER_URL for the whole run: Celery builds its connection pools
    once, so the broker cannot be switched in the middle of a test session.
    """
    url = django_settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        pytest.fail("Les tests d'intégration Celery exigent CELERY_BROKER_URL=redis://… : lancez `make test`.")
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def real_worker(broker_url, tmp_path):
    """A worker process on the test broker, reading the test database, writing e-mails to files."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "VIGIE_FIELD_KEYS": ",".join(django_settings.VIGIE_FIELD_KEYS),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-l", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # Celery reads Django's CELERY_* settings under their namespaced names.
    overrides = {"CELERY_BROKER_URL": broker_url, "CELERY_TASK_ALWAYS_EAGER": False}
    previous = {key: celery_app.conf.get(key) for key in overrides}
    celery_app.conf.update(overrides)
    celery_app.close()  # drop connection pools built for the previous broker setting
    try:
        yield tmp_path / "mail"
    finally:
        celery_app.conf.update(previous)
        celery_app.close()
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
        print(output)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_submission_e_mail_goes_through_a_real_worker(users, make_referral, real_worker):
    referral = make_referral("draft")
    services.referral_submit(user=users["referrer_ccas"], referral_id=referral.pk)
    deadline = time.monotonic() + 60
    files = []
    while time.monotonic() < deadline and not files:
        files = list(real_worker.glob("*.log")) if real_worker.exists() else []
        time.sleep(0.5)
    assert files, "le worker n'a envoyé aucun e-mail en 60 s"
    message = files[0].read_text()
    assert referral.reference in message and users["coord_sud"].email in message
    assert referral.victim["last_name"] not in message and referral.author["last_name"] not in message
