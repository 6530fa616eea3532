"""Shared fixtures: the demo world of DESIGN.md and dossiers moved to any state by the services."""

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.test import Client

from cidff import services as cidff_services
from config.celery import app as celery_app
from core.demo import demo_referral_payload, seed_reference
from referrals import services
from tests.evaluations import COMPLETE, ELIGIBLE, all_answers
from tests.evaluations import STATE_STEPS as EVALUATION_STEPS

TEST_PASSWORD = "Mot-de-passe-de-test-2026"
ROOT = Path(__file__).resolve().parents[1]

# The states a fixture dossier can be brought to, and the steps that bring it there.
STATE_STEPS = {
    "draft": [],
    "submitted": ["submit"],
    "received": ["submit", "acknowledge"],
    "evaluation": ["submit", "acknowledge", "assign"],
    "withdrawn": ["submit", "withdraw"],
    "closed": ["submit", "acknowledge", "close"],
}


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private"},
        },
    }
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture(autouse=True, scope="session")
def _postgresql_only(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        if connection.vendor != "postgresql":
            pytest.exit(
                "Les tests tournent sur PostgreSQL : lancez `make test` "
                "ou exportez DATABASE_URL=postgres://root@127.0.0.1:5432/vigie.",
                returncode=2,
            )


@pytest.fixture
def world(db):
    # Transactional tests flush the tables, data migrations included: reload the shipped grid (idempotent).
    cidff_services.instrument_load(text=(ROOT / "cidff" / "instruments" / "grille-vigie-v1.yaml").read_text())
    return seed_reference(password=TEST_PASSWORD)


@pytest.fixture
def users(world):
    return world.users


@pytest.fixture
def orgs(world):
    return world.organisations


@pytest.fixture
def payload(world):
    """A complete, valid create body (API shape) addressed to CIDFF 92 Sud."""
    data = demo_referral_payload(random.Random(7), world.organisations)
    data["cidff"] = world.organisations["cidff92sud"]
    data["urgency"] = "normal"
    return data


@pytest.fixture
def make_referral(world):
    """make_referral(state="received", referrer="referrer_ccas", cidff="cidff92sud", **overrides)."""
    counter = iter(range(10_000))

    def make(state="draft", referrer="referrer_ccas", cidff="cidff92sud", evaluator="eval1_sud", **overrides):
        data = demo_referral_payload(random.Random(next(counter)), world.organisations)
        data["cidff"] = world.organisations[cidff]
        data.update(overrides)
        author = world.users[referrer]
        referral = services.referral_create(user=author, data=data)
        coordinator = next(
            u for u in world.users.values() if u.role == "cidff_coordinator" and u.organisation_id == referral.cidff_id
        )
        for step in STATE_STEPS[state]:
            if step == "submit":
                services.referral_submit(user=author, referral_id=referral.pk)
            elif step == "withdraw":
                services.referral_withdraw(user=author, referral_id=referral.pk)
            elif step == "acknowledge":
                services.referral_acknowledge(user=coordinator, referral_id=referral.pk)
            elif step == "assign":
                services.referral_assign(
                    user=coordinator, referral_id=referral.pk, evaluator_id=world.users[evaluator].pk
                )
            elif step == "close":
                services.referral_close(user=coordinator, referral_id=referral.pk, reason="unreachable")
        referral.refresh_from_db()
        return referral

    return make


@pytest.fixture
def make_evaluation(users, make_referral):
    """make_evaluation(state="validated", yes=("V03", "V04"), **referral_overrides) — CIDFF 92 Sud, eval1."""

    def make(state="draft", yes=("V03", "V04"), unknown=(), eligibility=None, **referral_overrides):
        referral = make_referral("evaluation", **referral_overrides)
        evaluator, coordinator = users["eval1_sud"], users["coord_sud"]
        evaluation = cidff_services.evaluation_create(user=evaluator, referral_id=referral.pk)
        data = {**COMPLETE, "answers": all_answers(yes, unknown), "eligibility": {**ELIGIBLE, **(eligibility or {})}}
        cidff_services.evaluation_update(user=evaluator, evaluation_id=evaluation.pk, data=data)
        for step in EVALUATION_STEPS[state]:
            actor = evaluator if step == "finalize" else coordinator
            getattr(cidff_services, f"evaluation_{step}")(user=actor, evaluation_id=evaluation.pk)
        evaluation.refresh_from_db()
        return evaluation

    return make


@pytest.fixture
def api(db):
    """A new Django test client logged in as `user` (or anonymous with None) — one per call."""

    def login(user):
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return login


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


class CeleryProcesses:
    """Real worker and beat processes on the test broker, reading the test database, writing e-mails to files."""

    def __init__(self, broker_url, tmp_path):
        db = connection.settings_dict
        self.mail_dir = tmp_path / "mail"
        self.env = {
            **os.environ,
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "CELERY_BROKER_URL": broker_url,
            "CELERY_TASK_ALWAYS_EAGER": "0",
            "VIGIE_FIELD_KEYS": ",".join(django_settings.VIGIE_FIELD_KEYS),
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.mail_dir),
            "VIGIE_PRIVATE_STORAGE": str(django_settings.STORAGES["default"]["OPTIONS"]["location"]),
            "VIGIE_BEAT_SCHEDULE_FILE": str(tmp_path / "celerybeat-schedule"),
        }
        self.processes = []

    def start(self, *arguments, **env) -> subprocess.Popen:
        """`start("worker", "--pool=solo")`, `start("beat", VIGIE_DEADLINE_SCAN_SECONDS="1")`."""
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *arguments, "-l", "WARNING"],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def stop(self):
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
            try:
                output = process.communicate(timeout=20)[0]
            except subprocess.TimeoutExpired:  # a worker stuck in a task does not finish its warm shutdown
                process.kill()
                output = process.communicate()[0]
            print(output.decode(errors="replace"))


@pytest.fixture
def celery_processes(broker_url, tmp_path):
    # Celery reads Django's CELERY_* settings under their namespaced names.
    overrides = {"CELERY_BROKER_URL": broker_url, "CELERY_TASK_ALWAYS_EAGER": False}
    previous = {key: celery_app.conf.get(key) for key in overrides}
    celery_app.conf.update(overrides)
    celery_app.close()  # drop connection pools built for the previous broker setting
    processes = CeleryProcesses(broker_url, tmp_path)
    try:
        yield processes
    finally:
        celery_app.conf.update(previous)
        celery_app.close()
        processes.stop()


@pytest.fixture
def real_worker(celery_processes):
    """A worker process on the test broker; the folder its e-mails are written to."""
    celery_processes.start("worker", "--pool=solo")
    return celery_processes.mail_dir
