"""The database unreachable while serving a request: a 503 in French asking to retry, never a 500 or a trace;
once it is back, the next request is served (the failed connection is not kept)."""

import logging

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.core.handlers.wsgi import WSGIHandler
from django.db import InterfaceError, connection, connections
from django.test import Client, RequestFactory
from django.urls import reverse

from core.health import READINESS_CHECKS, UNAVAILABLE_MESSAGE, database_check
from tests.auth import bearer_token, sign_in
from tests.core.test_health import outage  # noqa: F401  (the fixture)

PAGE_TITLE = "Vigie est momentanément indisponible"


def browser() -> Client:
    return Client(raise_request_exception=False)  # the server's answer, as a browser gets it, not the exception


def assert_unavailable(response) -> str:
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Cache-Control"] == "no-store"
    body = response.content.decode()
    for leak in ("Traceback", "OperationalError", "InterfaceError", "5432", "127.0.0.1", "SELECT"):
        assert leak not in body
    return body


def logged_problems(caplog) -> list[tuple[str, str, str]]:
    return [(r.name, r.levelname, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING]


def test_a_page_is_a_french_503_while_the_database_is_down_then_served_again(users, outage, caplog):  # noqa: F811
    client = sign_in(browser(), users["coord_sud"])
    assert client.get(reverse("referral-list")).status_code == 200
    outage.start()
    caplog.clear()
    response = client.get(reverse("referral-list"))
    body = assert_unavailable(response)
    assert response["Content-Type"].startswith("text/html")
    assert '<html lang="fr">' in body and PAGE_TITLE in body and "Réessayez dans quelques instants" in body
    # One warning, without the driver's message; no error line with a traceback.
    assert logged_problems(caplog) == [
        ("core.health", "WARNING", "Base de données injoignable (OperationalError) : réponse 503.")
    ]
    outage.end()
    assert client.get(reverse("referral-list")).status_code == 200  # same session, a new connection


def test_the_api_answers_a_french_json_503_while_the_database_is_down(users, outage, caplog):  # noqa: F811
    token = bearer_token(browser(), users["coord_sud"])
    client = browser()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/referrals/", headers=headers).status_code == 200
    outage.start()
    caplog.clear()
    response = client.get("/api/v1/referrals/", headers=headers)
    assert_unavailable(response)
    assert response.json() == {"detail": UNAVAILABLE_MESSAGE}
    assert [name for name, *_ in logged_problems(caplog)] == ["core.health"]
    outage.end()
    assert client.get("/api/v1/referrals/", headers=headers).status_code == 200


def test_an_interface_error_is_a_503_too(db, monkeypatch, caplog):
    def lost(self):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(SessionStore, "load", lost)
    client = browser()
    client.cookies["sessionid"] = "a" * 32  # a session to read: the first query of the request
    body = assert_unavailable(client.get(reverse("referral-list")))
    assert PAGE_TITLE in body
    assert [name for name, *_ in logged_problems(caplog)] == ["core.health"]


def test_any_other_error_is_still_the_500_page(db, monkeypatch):
    def broken(self):
        raise RuntimeError("bug")

    monkeypatch.setattr(SessionStore, "load", broken)
    client = browser()
    client.cookies["sessionid"] = "a" * 32
    response = client.get(reverse("referral-list"))
    assert response.status_code == 500
    assert "Une erreur est survenue" in response.content.decode() and "Retry-After" not in response


@pytest.mark.parametrize("path", ["/healthz", "/connexion/"])
def test_pages_that_read_nothing_are_served_while_the_database_is_down(outage, path):  # noqa: F811
    outage.start()
    assert browser().get(path).status_code == 200


def serve(path: str) -> int:
    """One request through Django's WSGI handler as a server runs it: the connections found unusable are closed at
    its end (the test client leaves that step out)."""
    statuses = []
    response = WSGIHandler()(RequestFactory().get(path).environ, lambda status, headers: statuses.append(status))
    response.close()
    return int(statuses[0].split()[0])


def test_a_connection_lost_during_a_request_is_replaced_at_the_next_one(transactional_db, monkeypatch):
    def killed_midway():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            pid = cursor.fetchone()[0]
        other = connections.create_connection("default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])  # as a PostgreSQL restart would
        finally:
            other.close()
        return database_check()

    assert serve("/readyz") == 200  # a connection is open and kept between requests
    monkeypatch.setitem(READINESS_CHECKS, "database", killed_midway)
    assert serve("/readyz") == 503
    monkeypatch.undo()
    assert serve("/readyz") == 200
