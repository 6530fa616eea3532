"""No input makes a 5xx: JSON bodies are bounded in size and depth (400 in French), ids in URLs are numbers (404).

The routes are read from the URL resolver, never from a hand list: a new route is swept as soon as it exists.
"""

import json
import logging
import zlib

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from rest_framework import viewsets

from accounts.models import User
from core.api import Router
from tests.routes import API_MODELS, is_id, resolver_routes

pytestmark = pytest.mark.django_db

NESTED_ARRAYS = "[" * 2000 + "]" * 2000  # 4 KB: past the recursion limit of Python's JSON parser (was a 500)
NESTED_OBJECTS = '{"a":' * 1000 + "1" + "}" * 1000
TOO_DEEP = "JSON trop imbriqué : 32 niveaux au maximum."
BODY_METHODS = {"post", "put", "patch"}
REFUSED_VALUE = "JSON invalide : texte mal encodé ou valeur non acceptée."
SWEEP_USERS = (None, "referrer_ccas", "coord_sud", "eval1_sud", "prosecutor_nanterre", "operator", "supervisor")
NOT_NUMBERS = ["abc", "1.5", "-1", "1e3", "0x1f", "12abc", "٣", "%20"]
PLACEHOLDER = "424242"


def no_server_error_logged(caplog):
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def test_the_sweeps_see_the_routes_that_matter():
    routes = {name: (parameters, methods) for name, parameters, methods in resolver_routes()}
    assert routes["api-notification-read"] == (["pk"], {"post"})
    assert routes["api-token"][1] == {"post", "delete"} and routes["referral-detail"][0] == ["pk"]
    assert sum(1 for parameters, _ in routes.values() if any(map(is_id, parameters))) > 40


# --- JSON bodies ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [NESTED_ARRAYS, NESTED_OBJECTS], ids=["arrays", "objects"])
def test_nested_json_on_every_api_route_is_never_a_5xx(
    api, users, active, make_referral, make_evaluation, body, caplog
):
    active()  # a running measure: a dossier, its evaluation, decision, phone and attribution
    make_referral("draft")
    make_evaluation("draft")
    first = {prefix: model.objects.order_by("pk").values_list("pk", flat=True) for prefix, model in API_MODELS.items()}
    ids = {prefix: pks.first() for prefix, pks in first.items()}
    parsed = set()
    for key in SWEEP_USERS:
        client = api(users[key] if key else None)
        for name, parameters, methods in resolver_routes():
            if not name.startswith("api-"):
                continue
            pk = next((pk for prefix, pk in ids.items() if name.startswith(prefix)), None) or 1
            kwargs = {p: pk if is_id(p) else "grille-vigie" for p in parameters}
            for method in methods & BODY_METHODS:
                response = getattr(client, method)(reverse(name, kwargs=kwargs), body, content_type="application/json")
                assert response.status_code < 500, (key, name, method, response.status_code)
                if response.status_code == 400 and response.json() == {"detail": TOO_DEEP}:
                    parsed.add((name, method, key is None))
    # The body was read, and refused, anonymously (token) and signed in, on the main writing endpoints.
    assert {
        ("api-token", "post", True),
        ("api-token", "post", False),
        ("api-referral-list", "post", False),
        ("api-referral-detail", "patch", False),
        ("api-referral-assign", "post", False),
        ("api-evaluation-detail", "patch", False),
        ("api-notification-preferences", "put", False),
        ("api-decision-list", "post", False),
        ("api-device-detail", "patch", False),
        ("api-attribution-withdraw", "post", False),
        ("api-alert-list", "post", False),
    } <= parsed
    no_server_error_logged(caplog)


def test_anonymous_nested_json_is_a_401_where_sign_in_is_required_and_a_400_on_the_token(api, caplog):
    client = api(None)
    response = client.post("/api/v1/auth/token/", NESTED_ARRAYS, content_type="application/json")
    assert response.status_code == 400 and response.json() == {"detail": TOO_DEEP}
    response = client.post("/api/v1/referrals/", NESTED_ARRAYS, content_type="application/json")
    assert response.status_code == 401
    no_server_error_logged(caplog)


def nest(depth: int) -> str:
    return '{"email": ' * depth + '"x"' + "}" * depth


def test_depth_32_is_read_and_33_is_refused(api, caplog):
    client = api(None)
    read = client.post("/api/v1/auth/token/", nest(31), content_type="application/json")  # 31 levels
    assert read.status_code == 400 and "email" in read.json()  # the serializer's answer: the body was parsed
    read = client.post("/api/v1/auth/token/", f"[{nest(31)}]", content_type="application/json")  # 32 levels
    assert read.status_code == 400 and read.json() != {"detail": TOO_DEEP}
    refused = client.post("/api/v1/auth/token/", f"[[{nest(31)}]]", content_type="application/json")  # 33 levels
    assert refused.status_code == 400 and refused.json() == {"detail": TOO_DEEP}
    no_server_error_logged(caplog)


def test_a_body_over_the_size_limit_is_refused_before_parsing(api, users, settings, caplog):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 4096
    body = json.dumps({"email": "x" * 5000, "password": "y"})
    for client, url in ((api(None), "/api/v1/auth/token/"), (api(users["referrer_ccas"]), "/api/v1/referrals/")):
        response = client.post(url, body, content_type="application/json")
        assert response.status_code == 400
        assert response.json() == {"detail": "Corps de requête trop volumineux : 4 Ko au maximum."}
    no_server_error_logged(caplog)


def test_the_default_size_limit_holds(api, caplog):
    body = json.dumps({"email": "x" * (3 * 1024 * 1024), "password": "y"})  # over Django's 2.5 MB default
    response = api(None).post("/api/v1/auth/token/", body, content_type="application/json")
    assert response.status_code == 400 and "trop volumineux" in response.json()["detail"]
    no_server_error_logged(caplog)


@pytest.mark.parametrize(
    "body, content_type, message",
    [
        (b'{"email": ', "application/json", "JSON invalide (ligne 1, colonne 11)."),
        (b'{"email": NaN}', "application/json", REFUSED_VALUE),
        (b'{"email": "\xff\xfe"}', "application/json", REFUSED_VALUE),
        (b'{"n": ' + b"9" * 5000 + b"}", "application/json", REFUSED_VALUE),
        (zlib.compress(b'{"email": "' + b"x" * 10**6 + b'"}'), "application/json; charset=zlib", "JSON invalide"),
        (b'{"rznvy": "k"}', "application/json; charset=rot13", "JSON invalide"),
    ],
    ids=["truncated", "nan", "not-utf8", "huge-integer", "zlib-charset", "rot13-charset"],
)
def test_malformed_json_is_a_400_in_french(api, body, content_type, message, caplog):
    response = api(None).generic("POST", "/api/v1/auth/token/", body, content_type=content_type)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(message)
    no_server_error_logged(caplog)


# --- ids in URLs ----------------------------------------------------------------------------------------------


def test_every_route_answers_404_to_an_id_that_is_not_a_number(api, users, caplog):
    client = api(users["coord_sud"])
    swept = 0
    for name, parameters, methods in resolver_routes():
        if not any(map(is_id, parameters)):
            continue
        kwargs = {p: PLACEHOLDER if is_id(p) else "x" for p in parameters}
        path = reverse(name, kwargs=kwargs)
        for junk in NOT_NUMBERS:
            for method in methods:
                response = getattr(client, method)(path.replace(PLACEHOLDER, junk))
                assert response.status_code == 404, (name, method, junk, response.status_code)
                swept += 1
    assert swept > 40 * len(NOT_NUMBERS)
    no_server_error_logged(caplog)


@pytest.mark.parametrize("user_key", ["coord_sud", "supervisor", "operator"])
def test_an_id_too_large_for_the_database_is_never_a_5xx(api, users, make_referral, user_key, caplog):
    make_referral("received")
    client = api(users[user_key])
    for name, parameters, methods in resolver_routes():
        if not any(map(is_id, parameters)):
            continue
        path = reverse(name, kwargs={p: "9" * 30 if is_id(p) else "x" for p in parameters})
        for method in methods:
            response = getattr(client, method)(path)
            assert response.status_code in (400, 403, 404, 405), (name, method, response.status_code)
    assert User.objects.exists()  # the database still answers: no transaction left broken
    no_server_error_logged(caplog)


def test_a_viewset_matched_by_a_bare_regex_is_refused_when_the_routes_are_built():
    class LooseViewSet(viewsets.GenericViewSet):
        lookup_value_regex = "[^/.]+"

    with pytest.raises(ImproperlyConfigured, match="lookup_value_converter"):
        Router().get_lookup_regex(LooseViewSet)
    assert Router().get_lookup_regex(viewsets.GenericViewSet) == "<int:pk>"
