"""The probes: /healthz answers without touching anything, /readyz names the check that fails (never a host)."""

import socket

import pytest
from django.db import connection
from django.test import Client

from audit.models import AccessEvent

READY = {"database": "ok", "broker": "not_configured", "storage": "ok"}
DOWN_BROKER = "redis://127.0.0.1:6390/0"  # nothing listens there


def closed_port() -> int:
    """A local port nothing listens on (bound for a moment by the system, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Outage:
    """PostgreSQL unreachable for the default connection (pointed at a closed port) from `start()` to `end()`."""

    def __init__(self):
        self.port = connection.settings_dict["PORT"]

    def start(self):
        connection.close()
        connection.settings_dict["PORT"] = closed_port()

    def end(self):
        connection.close()
        connection.settings_dict["PORT"] = self.port


@pytest.fixture
def outage(transactional_db):
    """An Outage, ended after the test whatever happens (a closed connection cannot live in a test transaction)."""
    outage = Outage()
    try:
        yield outage
    finally:
        outage.end()


def assert_probe(response, status: int):
    assert response.status_code == status
    assert response["Cache-Control"] == "no-store"
    assert not response.cookies  # no session, no CSRF cookie
    return response.json()


# --- /healthz -------------------------------------------------------------------------------------------------


def test_healthz_is_alive_without_the_database():
    # No `db` fixture: any query would be refused by pytest-django and the answer would not be this one.
    body = assert_probe(Client().get("/healthz"), 200)
    assert body == {"status": "ok"}


def test_healthz_answers_head_and_refuses_other_methods():
    client = Client()
    assert client.head("/healthz").status_code == 200
    assert client.put("/healthz").status_code == 405


def test_healthz_stays_up_while_the_database_is_down(outage):
    outage.start()
    assert assert_probe(Client().get("/healthz"), 200) == {"status": "ok"}


def test_probes_are_not_redirected_to_https(settings, db):
    settings.SECURE_SSL_REDIRECT = True
    client = Client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200
    assert client.get("/connexion/").status_code == 301  # everything else still is


# --- /readyz --------------------------------------------------------------------------------------------------


def test_readyz_is_ready_when_every_check_passes(db, settings):
    body = assert_probe(Client().get("/readyz"), 200)
    assert body == {"status": "ok", "checks": READY}
    assert not AccessEvent.objects.exists()  # a probe is not an access to record
    assert not list((settings.STORAGES["default"]["OPTIONS"]["location"]).iterdir())  # its probe file is gone


def test_readyz_checks_the_broker_when_tasks_go_through_one(db, settings):
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.fail("Ce test exige CELERY_BROKER_URL=redis://… : lancez `make test`.")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    body = assert_probe(Client().get("/readyz"), 200)
    assert body["checks"] == {**READY, "broker": "ok"}


def test_readyz_names_the_broker_when_it_is_down(db, settings, caplog):
    settings.CELERY_BROKER_URL = DOWN_BROKER
    settings.CELERY_TASK_ALWAYS_EAGER = False
    response = Client().get("/readyz")
    body = assert_probe(response, 503)
    assert body == {"status": "error", "checks": {**READY, "broker": "error"}}
    assert b"6390" not in response.content and b"127.0.0.1" not in response.content
    assert "6390" not in caplog.text and "vérification broker" in caplog.text


def test_readyz_names_the_database_when_it_is_down(outage):
    outage.start()
    response = Client().get("/readyz")
    body = assert_probe(response, 503)
    assert body == {"status": "error", "checks": {**READY, "database": "error"}}
    assert b"127.0.0.1" not in response.content and b"5432" not in response.content


def test_readyz_is_ready_again_once_the_database_is_back(outage):
    client = Client()
    outage.start()
    assert client.get("/readyz").status_code == 503
    outage.end()
    assert assert_probe(client.get("/readyz"), 200)["checks"] == READY


def test_readyz_names_the_storage_when_it_cannot_write(db, settings, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")  # the storage's folder cannot be made under a file
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": blocked / "x"}},
    }
    response = Client().get("/readyz")
    body = assert_probe(response, 503)
    assert body == {"status": "error", "checks": {**READY, "storage": "error"}}
    assert str(tmp_path).encode() not in response.content
