"""The answers Schemathesis led to fix, pinned: each is now what the schema documents."""

import pytest

pytestmark = pytest.mark.django_db


def test_a_file_route_answers_its_file_whatever_accept_says(api, users, make_evaluation):
    evaluation = make_evaluation("draft")
    client = api(users["coord_sud"])
    for accept in ("application/pdf", "text/html", "*/*"):
        response = client.get(f"/api/v1/evaluations/{evaluation.pk}/report/", HTTP_ACCEPT=accept)
        assert response.status_code == 200 and response["Content-Type"] == "application/pdf", accept
    missing = client.get("/api/v1/evaluations/999999/report/", HTTP_ACCEPT="application/pdf")
    assert missing.status_code == 404 and missing["Content-Type"] == "application/json"  # its errors are JSON
    assert client.get("/api/v1/referrals/", HTTP_ACCEPT="text/html").status_code == 406  # a JSON route: documented


def test_no_path_of_the_api_answers_html(api, users):
    client = api(users["coord_sud"])
    for path in ("/api/v1/referrals/abc/", "/api/v1/referrals/1%0A2/", "/api/v1/nothing/here/"):
        for method in ("get", "post", "delete", "options"):
            response = getattr(client, method)(path)
            assert response.status_code == 404 and response.json() == {"detail": "Introuvable."}, (path, method)
    assert api(None).get("/api/v1/referrals/abc/").status_code == 401
    assert client.get("/api/v1/referrals").status_code == 301  # APPEND_SLASH still redirects


def test_options_is_not_served(api, users):
    assert api(users["coord_sud"]).options("/api/v1/notifications/preferences/").status_code == 405  # was a 500


@pytest.mark.parametrize(
    "size, status", [("abc", 400), ("0", 400), ("", 400), ("٣", 400), ("3", 200), ("9" * 5000, 200)]
)
def test_page_size_is_a_positive_integer(api, users, size, status):
    response = api(users["coord_sud"]).get("/api/v1/organisations/", {"page_size": size})
    assert response.status_code == status
    if status == 400:
        assert response.json() == {"page_size": ["Un nombre entier positif est attendu."]}


def test_a_json_value_of_another_type_is_a_400(api, users, make_evaluation):
    evaluation = make_evaluation("draft")
    client = api(users["eval1_sud"])
    url = f"/api/v1/evaluations/{evaluation.pk}/addenda/"
    response = client.post(url, {"text": 0}, content_type="application/json")  # was stored as "0"
    assert response.status_code == 400 and response.json() == {"text": ["Une chaîne de caractères est attendue."]}
    response = api(users["referrer_ccas"]).post(
        "/api/v1/referrals/", {"victim_informed": "true", "cohabiting": 1}, content_type="application/json"
    )
    errors = response.json()
    assert response.status_code == 400
    assert errors["victim_informed"] == errors["cohabiting"] == ["Un booléen (true ou false) est attendu."]


def test_only_the_upload_reads_multipart(api, users):
    response = api(users["referrer_ccas"]).post("/api/v1/referrals/", {"cidff": 1})  # the test client's multipart
    assert response.status_code == 415
