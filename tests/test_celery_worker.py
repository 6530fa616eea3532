"""A real Celery worker against Redis sends the CIDFF's new-referral e-mail (no personal data)."""

import os
import subprocess
import sys
import time
import uuid
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
    url = os.environ.get("VIGIE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    redis.Redis.from_url(url).ping()  # fails loudly: integration tests need Redis (make test / .ci/run start it)
    return url


@pytest.fixture
def real_worker(broker_url, tmp_path):
    """A worker process on a private queue, reading the test database, writing e-mails to files."""
    queue = f"vigie-test-{uuid.uuid4().hex}"
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
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", queue, "-l", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    # Celery reads Django's CELERY_* settings under their namespaced names.
    overrides = {
        "CELERY_BROKER_URL": broker_url,
        "CELERY_TASK_ALWAYS_EAGER": False,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
    }
    previous = {key: celery_app.conf.get(key) for key in overrides}
    celery_app.conf.update(overrides)
    try:
        yield tmp_path / "mail"
    finally:
        celery_app.conf.update(previous)
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
