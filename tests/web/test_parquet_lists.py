"""The lists of the phone stock and of the operator's beneficiaries: work queues with counts, search (the serial; the
calling number through the blind index), sort, server-side pages, filters kept in the address, constant queries."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from parquet import services
from parquet.models import Device
from referrals.indexes import normalise_phone
from tests.factories import DeviceFactory
from tests.web.helpers import assert_csp_safe, text

pytestmark = pytest.mark.django_db


def _queue_count(html, label):
    match = re.search(rf">{label} <span class=\"queues__count\">(\d+)<", html)
    return int(match[1]) if match else None


def test_the_stock_has_work_queues_with_counts_and_a_search_by_serial(api, users, stock, active):
    coordinator = users["coord_sud"]
    running = active(device=stock[0])
    services.device_update(user=coordinator, device_id=stock[1].pk, status="defective", note="Écran")
    client = api(coordinator)

    html = text(client.get(reverse("device-list")))
    assert_csp_safe(html)
    counts = {label: _queue_count(html, label) for label in ("Tous", "En stock", "Attribués", "Défectueux", "Perdus")}
    assert counts == {"Tous": 3, "En stock": 1, "Attribués": 1, "Défectueux": 1, "Perdus": 0}
    assert _queue_count(html, "Attendus en retour") == 0

    html = text(client.get(reverse("device-list"), {"file": "attribues"}))
    assert stock[0].serial in html and stock[1].serial not in html and stock[2].serial not in html
    assert 'aria-current="page" class="queues__current">Attribués' in html

    html = text(client.get(reverse("device-list"), {"q": stock[2].serial[-4:].lower()}))
    assert stock[2].serial in html and stock[0].serial not in html
    assert f'value="{stock[2].serial[-4:].lower()}"' in html  # the search stays in the form

    # the sort links keep the queue and the search
    html = text(client.get(reverse("device-list"), {"file": "en-stock", "q": "IMEI"}))
    assert re.search(r'href="\?file=en-stock&amp;q=IMEI&amp;sort=-serie"|href="\?[^"]*sort=etat[^"]*"', html)
    # a wrong value is ignored, never an error
    assert client.get(reverse("device-list"), {"file": "<x>", "sort": "DROP", "page": "9999"}).status_code == 200
    assert running.device_id == stock[0].pk


def test_a_phone_still_assigned_after_the_measure_is_expected_back(api, users, stock, active):
    attribution = active(device=stock[0])
    services.attribution_withdraw(
        user=users["prosecutor_nanterre"],
        attribution_id=attribution.pk,
        reason="withdrawn_by_victim",
        comment="Retrait.",
    )
    client = api(users["coord_sud"])
    html = text(client.get(reverse("device-list")))
    assert Device.objects.get(pk=stock[0].pk).status == "assigned"
    assert _queue_count(html, "Attendus en retour") == 1 and _queue_count(html, "Attribués") == 0
    html = text(client.get(reverse("device-list"), {"file": "retour"}))
    assert stock[0].serial in html and stock[1].serial not in html


def test_the_stock_query_count_does_not_grow_with_the_page(api, users, world):
    client = api(users["supervisor"])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("device-list")).status_code == 200
        return len(captured)

    sud, nord = world.organisations["cidff92sud"], world.organisations["cidff92nord"]
    DeviceFactory(organisation=sud)
    few = queries()
    DeviceFactory.create_batch(6, organisation=sud)
    DeviceFactory.create_batch(4, organisation=nord)
    assert queries() == few


def test_the_operator_finds_a_beneficiary_by_the_calling_number(api, users, stock, active):
    one, two = active(device=stock[0]), active(device=stock[1])
    client = api(users["operator"])
    phone = one.referral.victim["phone"]
    national = normalise_phone(phone)
    assert national.startswith("0")

    html = text(client.get(reverse("sheet-list")))
    assert one.referral.reference in html and two.referral.reference in html
    assert_csp_safe(html)

    for typed in (phone, "+33 " + national[1:], national):
        html = text(client.get(reverse("sheet-list"), {"tel": typed}))
        assert one.referral.reference in html, typed
        if two.referral.victim.get("phone") != phone:
            assert two.referral.reference not in html, typed

    html = text(client.get(reverse("sheet-list"), {"tel": stock[1].phone_number.replace(" ", ".")}))
    assert two.referral.reference in html and one.referral.reference not in html  # the alert phone's number

    html = text(client.get(reverse("sheet-list"), {"tel": "01 23 45 67 89"}))
    assert "Aucune mesure en cours pour le numéro" in html and one.referral.reference not in html
    html = text(client.get(reverse("sheet-list"), {"tel": "12"}))  # too short: no match rather than everything
    assert one.referral.reference not in html

    html = text(client.get(reverse("sheet-list"), {"sort": "-dossier"}))
    assert html.index(two.referral.reference) < html.index(one.referral.reference)


def test_the_operator_list_query_count_does_not_grow_with_the_page(api, users, stock, active):
    client = api(users["operator"])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("sheet-list")).status_code == 200
        return len(captured)

    active(device=stock[0])
    few = queries()
    active(device=stock[1])
    active(device=stock[2])
    assert queries() == few


def test_the_operator_api_list_query_count_does_not_grow_with_the_page(api, users, stock, active):
    client = api(users["operator"])

    def queries():
        with CaptureQueriesContext(connection) as captured:
            body = client.get("/api/v1/attributions/").json()
        assert all(row["danger_level"] for row in body["results"])  # the retained level, read in the same queries
        return len(captured)

    active(device=stock[0])
    few = queries()
    active(device=stock[1])
    active(device=stock[2])
    assert queries() == few
