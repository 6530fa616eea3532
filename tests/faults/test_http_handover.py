"""Fifty coordinators' clicks on one phone at once, through gunicorn over real HTTP: one holder, 49 conflicts."""

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from unittest import mock

import pytest
from django.utils import timezone

from parquet.models import Attribution, Device
from tests.auth import backup_code
from tests.factories import TEST_PASSWORD, DecisionFactory, DeviceFactory

pytestmark = pytest.mark.django_db(transaction=True)
CLICKS = 50


def post_json(url: str, body: dict, token: str | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw or b"{}")
        except ValueError:
            return error.code, {"raw": raw[:200].decode(errors="replace")}


def test_fifty_concurrent_handovers_over_http_have_one_winner(live_gunicorn, users, make_evaluation, world, settings):
    device = DeviceFactory(organisation=world.organisations["cidff92sud"])
    # The race is about the handover: the setup's reports and decisions get stub PDFs instead of 100 renders.
    with mock.patch("core.pdf.html_to_pdf", return_value=b"%PDF-1.4\n%%EOF\n"):
        decisions = [DecisionFactory(outcome="granted", evaluation=make_evaluation("sent")) for _ in range(CLICKS)]
    coordinator = users["coord_sud"]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]  # the server's hasher
    coordinator.set_password(TEST_PASSWORD)
    coordinator.save(update_fields=["password"])
    live_gunicorn.start(workers=2, threads=CLICKS // 2)
    status, body = post_json(
        f"{live_gunicorn.url}/api/v1/auth/token/",
        {"email": coordinator.email, "password": TEST_PASSWORD, "otp": backup_code(coordinator)},
    )
    assert status == 200, body
    token = body["token"]
    start = threading.Barrier(CLICKS)

    def hand_over(i: int) -> tuple[int, dict]:
        start.wait()
        return post_json(
            f"{live_gunicorn.url}/api/v1/attributions/",
            {
                "decision": decisions[i].pk,
                "device": device.pk,
                "handover_date": timezone.localdate().isoformat(),
                "consent": True,
                "geolocation_consent": False,
            },
            token,
        )

    with ThreadPoolExecutor(CLICKS) as pool:
        answers = list(pool.map(hand_over, range(CLICKS)))

    statuses = sorted(status for status, _ in answers)
    assert statuses.count(201) == 1, statuses
    assert statuses.count(409) == CLICKS - 1, statuses
    assert all("pas disponible" in body["detail"] for status, body in answers if status == 409), answers
    assert Attribution.objects.filter(device=device).count() == 1
    assert Device.objects.get(pk=device.pk).status == "assigned"
