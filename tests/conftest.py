"""Shared fixtures: the session clock, the demo world of DESIGN.md, clients, real Celery processes.

Dossiers at any stage come from the `tests.dossiers` plugin (factories in `tests.factories`).
"""

import os
import random
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
import time_machine
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import connection
from django.test import Client

from cidff import services as cidff_services
from config.celery import app as celery_app
from demo.world import demo_referral_payload, seed_reference
from tests import clock
from tests.auth import sign_in
from tests.factories import TEST_PASSWORD

pytest_plugins = ["tests.dossiers"]

ROOT = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent

# Test packages and modules whose outcome depends on the date or the hour: `-m dates` runs them again
# at pinned instants (New Year's Eve, 29 February, the DST switches, the end of a quarter…).
DATE_SENSITIVE = (
    "cidff/",
    "deadlines/",
    "notifications/",
    "parquet/",
    "referrals/test_workflow_api.py",
    "retention/",
    "stats/",
    "test_clock.py",
    "web/test_actions.py",
    "web/test_evaluation_pages.py",
    "web/test_lists.py",
    "web/test_parquet_pages.py",
    "web/test_referral_form.py",
)
# Fixtures of tests that run real worker, beat or web-server processes: those read the real clock, not the test clock.
REAL_PROCESSES = {"broker_url", "celery_processes", "real_worker", "live_gunicorn", "own_redis"}
SESSION_INSTANT = pytest.StashKey[tuple]()


# --- the clock -----------------------------------------------------------------------------------------


def pytest_configure(config):
    """Fix the session's instant once (xdist workers read it from the environment) and guard time travel."""
    clock.install_travel_guard()
    pinned = bool(os.environ.get(clock.ENV, "").strip())
    try:
        instant = clock.session_instant()
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    os.environ[clock.ENV] = instant.isoformat()
    config.stash[SESSION_INSTANT] = (instant, pinned)


def pytest_report_header(config):
    instant, pinned = config.stash[SESSION_INSTANT]
    origin = clock.ENV if pinned else f"the real now ({clock.ENV} unset)"
    return f"vigie clock: {instant.isoformat()} ({instant:%A %d %B %Y, %H:%M} Europe/Paris), from {origin}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """`dates` by path (DATE_SENSITIVE); `integration` for every test that starts real Celery processes.

    Those share the tests' Redis database (emptied by each): under xdist they all run in one worker, in turn.
    First among the hooks: xdist's `loadgroup` reads the `xdist_group` marker in its own modifyitems hook.
    """
    for item in items:
        path = Path(item.path).resolve()
        relative = path.relative_to(TESTS).as_posix() if path.is_relative_to(TESTS) else ""
        if relative.startswith(DATE_SENSITIVE):
            item.add_marker(pytest.mark.dates)
        if REAL_PROCESSES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)
            item.add_marker(pytest.mark.xdist_group("celery-broker"))


@pytest.fixture(autouse=True, scope="session")
def _session_clock(pytestconfig):
    """The whole session runs on the test clock: from the session instant (in Paris), time flowing on."""
    instant, _ = pytestconfig.stash[SESSION_INSTANT]
    with time_machine.travel(instant, tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    cache.clear()  # the dashboard's figures are kept a few minutes: each test computes its own
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private"},
        },
    }
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # each test's journal has its own checkpoints, like its own database state
    settings.VIGIE_AUDIT_CHECKPOINT_DIR = tmp_path / "audit"


@pytest.fixture(autouse=True, scope="session")
def _postgresql_only(_session_clock, django_db_setup, django_db_blocker):
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
def api(db):
    """A new Django test client signed in as `user`, second factor given (or anonymous with None) — one per call."""

    def login(user):
        client = Client()
        if user is not None:
            sign_in(client, user)
        return client

    return login


@pytest.fixture
def broker_url(request):
    """The tests' own Redis database, emptied first (fails loudly if Redis is down).

    `make test` sets CELERY_BROKER_URL for the whole run: Celery builds its connection pools
    once, so the broker cannot be switched in the middle of a test session. Under xdist, a test
    outside the shared group would race another worker's processes on that database: refused.
    """
    if request.config.getoption("loadgroup", False) and not request.node.nodeid.endswith("@celery-broker"):
        pytest.fail("Ce test lance des processus Celery hors du groupe xdist « celery-broker ».")
    url = django_settings.CELERY_BROKER_URL
    if not url.startswith("redis://"):
        pytest.fail("Les tests d'intégration Celery exigent CELERY_BROKER_URL=redis://… : lancez `make test`.")
    redis.Redis.from_url(url).flushdb()
    return url


def process_env(tmp_path, **overrides) -> dict[str, str]:
    """The environment of a real Vigie process beside this test: its database, keys, private storage and
    journal checkpoints, e-mails written to files under `tmp_path`."""
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "VIGIE_FIELD_KEYS": ",".join(django_settings.VIGIE_FIELD_KEYS),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "VIGIE_PRIVATE_STORAGE": str(django_settings.STORAGES["default"]["OPTIONS"]["location"]),
        "VIGIE_AUDIT_CHECKPOINT_DIR": str(django_settings.VIGIE_AUDIT_CHECKPOINT_DIR),
        **overrides,
    }


class CeleryProcesses:
    """Real worker and beat processes on the test broker, reading the test database, writing e-mails to files."""

    def __init__(self, broker_url, tmp_path):
        self.mail_dir = tmp_path / "mail"
        self.env = process_env(
            tmp_path,
            CELERY_BROKER_URL=broker_url,
            CELERY_TASK_ALWAYS_EAGER="0",
            VIGIE_BEAT_SCHEDULE_FILE=str(tmp_path / "celerybeat-schedule"),
        )
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


@contextmanager
def celery_on(broker_url: str):
    """This process's Celery app sends to `broker_url` for real (not eagerly) while the block runs."""
    # Celery reads Django's CELERY_* settings under their namespaced names.
    overrides = {"CELERY_BROKER_URL": broker_url, "CELERY_TASK_ALWAYS_EAGER": False}
    previous = {key: celery_app.conf.get(key) for key in overrides}
    # Bind every task first: close() also unregisters the app, and a tasks module imported afterwards would
    # register with no app (NotRegistered when a test's service enqueues it).
    celery_app.loader.import_default_modules()
    celery_app.conf.update(overrides)
    # Celery's broker_url reads the CELERY_BROKER_URL environment variable before its configuration.
    environment = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = broker_url
    _drop_connections()  # built for the previous broker setting
    try:
        yield
    finally:
        celery_app.conf.update(previous)
        if environment is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = environment
        _drop_connections()


def _drop_connections() -> None:
    """Celery's connection pool and the producer pool built on it (close() forgets only the first)."""
    celery_app.close()
    celery_app.amqp._producer_pool = None


@pytest.fixture
def celery_processes(broker_url, tmp_path):
    processes = CeleryProcesses(broker_url, tmp_path)
    with celery_on(broker_url):
        try:
            yield processes
        finally:
            processes.stop()


@pytest.fixture
def real_worker(celery_processes):
    """A worker process on the test broker; the folder its e-mails are written to."""
    celery_processes.start("worker", "--pool=solo")
    return celery_processes.mail_dir
