"""Structured logs: a request id on every request and every line written for it, one access line per request
naming the URL pattern (never the path nor the query string), JSON lines wired by VIGIE_LOG_FORMAT."""

import io
import json
import logging
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.test import Client

from core.logs import JsonFormatter, RequestIdFilter, request_id

ROOT = Path(__file__).resolve().parents[2]
GENERATED_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture
def json_lines():
    """The lines the root logger writes during the test, through the production formatter and filter, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)


def access_lines(lines: list[dict]) -> list[dict]:
    return [line for line in lines if line["logger"] == "vigie.access"]


# --- the request id -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("incoming", ["abcd1234", "0f8e-4c2a-9b1d-77aa", "A" * 64])
def test_a_well_formed_incoming_request_id_is_kept(incoming):
    assert Client().get("/healthz", headers={"X-Request-ID": incoming})["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming", ["", "short", "A" * 65, "abcd 1234", "abcd1234\nforged", "<script>x</script>", "dupont_marie"]
)
def test_any_other_incoming_request_id_is_replaced(incoming):
    sent = Client().get("/healthz", headers={"X-Request-ID": incoming})["X-Request-ID"]
    assert GENERATED_ID.fullmatch(sent)


def test_each_request_gets_its_own_id():
    client = Client()
    first, second = (client.get("/healthz")["X-Request-ID"] for _ in range(2))
    assert GENERATED_ID.fullmatch(first) and GENERATED_ID.fullmatch(second) and first != second


# --- the access line ------------------------------------------------------------------------------------------


def test_one_access_line_per_request_with_the_route_never_the_query(api, users, json_lines):
    user = users["coord_sud"]
    response = api(user).get("/dossiers/?q=Dupont&page=1")
    assert response.status_code == 200
    lines = json_lines()
    [access] = access_lines(lines)
    assert access["route"] == "dossiers/" and access["method"] == "GET" and access["status"] == 200
    assert access["user_id"] == user.pk and isinstance(access["duration_ms"], int) and access["duration_ms"] >= 0
    assert access["request_id"] == response["X-Request-ID"]
    assert access["level"] == "INFO" and access["message"].startswith("GET dossiers/ 200 ")
    written = datetime.fromisoformat(access["timestamp"])
    assert written.utcoffset().total_seconds() == 0 and abs((datetime.now(UTC) - written).total_seconds()) < 60
    everything = json.dumps(lines)
    assert "Dupont" not in everything and "q=" not in everything


def test_the_access_line_names_the_pattern_and_every_line_of_the_request_carries_its_id(api, users, json_lines):
    response = api(users["coord_sud"]).get("/dossiers/987654/")
    assert response.status_code == 404
    lines = json_lines()
    [access] = access_lines(lines)
    assert access["route"] == "dossiers/<int:pk>/" and access["status"] == 404
    assert "987654" not in access["message"]
    # Django logs a 4xx once past the middlewares: the id lasts until the response is closed, not a line longer.
    [not_found] = [line for line in lines if line["logger"] == "django.request"]
    assert not_found["request_id"] == response["X-Request-ID"]
    logging.getLogger("vigie.test").warning("après la requête")
    assert "request_id" not in json_lines()[-1]


def test_an_unknown_path_is_logged_without_a_route_and_without_the_path(db, json_lines):
    assert Client().get("/nulle-part/dupont/").status_code == 404
    [access] = access_lines(json_lines())
    assert "route" not in access and "user_id" not in access  # anonymous
    assert access["message"].startswith("GET - 404 ") and "dupont" not in json.dumps(access)


# --- the formatter --------------------------------------------------------------------------------------------


def format_record(**kwargs) -> dict:
    record = logging.LogRecord("vigie.test", logging.ERROR, __file__, 1, "échec %s", ("n° 3",), None)
    record.__dict__.update(kwargs)
    RequestIdFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_a_line_outside_any_request_has_no_request_id_and_only_plain_extra_fields():
    line = format_record(status_code=503, request=object(), attempt=2.5)
    assert line.pop("timestamp").endswith("+00:00")
    expected = {"level": "ERROR", "logger": "vigie.test", "message": "échec n° 3", "status_code": 503, "attempt": 2.5}
    assert line == expected


def test_a_line_inside_a_request_carries_its_id_and_an_exception_its_trace():
    token = request_id.set("abcd-1234")
    try:
        raise ValueError("boom")
    except ValueError:
        line = format_record(exc_info=sys.exc_info())
    finally:
        request_id.reset(token)
    assert line["request_id"] == "abcd-1234"
    assert line["exception"].startswith("Traceback") and "ValueError: boom" in line["exception"]


# --- the wiring: settings, Celery workers ---------------------------------------------------------------------

LOG_TWO_LINES = """
import django, logging
django.setup()
from celery.utils.log import get_task_logger
from config.celery import app
app.log.setup(loglevel="INFO")  # what a worker does at start
logging.getLogger("vigie.test").warning("bonjour %s", "Vigie")
get_task_logger("deadlines.tasks").warning("tâche %s", 7)
"""


def log_two_lines(**env) -> subprocess.CompletedProcess:
    """Settings loaded in a fresh process set up as a Celery worker, two lines logged (one by a task logger)."""
    environment = {key: value for key, value in os.environ.items() if key != "VIGIE_LOG_FORMAT"}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings", **env)
    return subprocess.run(
        [sys.executable, "-c", LOG_TWO_LINES], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )


def test_json_format_writes_one_object_a_line_on_stderr_workers_and_tasks_included():
    result = log_two_lines(VIGIE_LOG_FORMAT="json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert [(line["logger"], line["level"], line["message"]) for line in lines] == [
        ("vigie.test", "WARNING", "bonjour Vigie"),
        ("deadlines.tasks", "WARNING", "tâche 7"),
    ]


def test_the_embedded_default_is_plain_text():
    result = log_two_lines()
    assert result.returncode == 0, result.stderr
    assert re.search(r"^\S+ \S+ WARNING vigie.test bonjour Vigie$", result.stderr, re.MULTILINE), result.stderr
    assert not result.stderr.lstrip().startswith("{")


def test_an_unknown_format_is_refused():
    result = log_two_lines(VIGIE_LOG_FORMAT="xml")
    assert result.returncode != 0
    assert "VIGIE_LOG_FORMAT doit valoir 'json' ou 'plain', pas 'xml'." in result.stderr
