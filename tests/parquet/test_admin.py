"""Supervisors in the admin: they manage phones; decisions, periods and alerts are read-only and journaled."""

import pytest

from audit.models import AccessEvent
from parquet.models import Device, DeviceEvent

pytestmark = pytest.mark.django_db
INLINE = {"events-TOTAL_FORMS": 0, "events-INITIAL_FORMS": 0}  # the read-only history inline's management form


def test_supervisor_adds_and_retires_a_phone_with_history(api, users, orgs):
    client = api(users["supervisor"])
    response = client.post(
        "/admin/parquet/device/add/",
        {"serial": "IMEI3577777777", "phone_number": "07 77 77 77 77", "organisation": orgs["cidff92sud"].pk, **INLINE},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    device = Device.objects.get(serial="IMEI3577777777")
    response = client.post(
        f"/admin/parquet/device/{device.pk}/change/",
        {"organisation": orgs["cidff92sud"].pk, "status": "retired", **INLINE},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert list(DeviceEvent.objects.filter(device=device).order_by("id").values_list("to_status", flat=True)) == [
        "in_stock",
        "retired",
    ]
    assert client.post(f"/admin/parquet/device/{device.pk}/delete/").status_code == 403
    assert api(users["coord_sud"]).get("/admin/parquet/device/").status_code == 302


def test_decisions_periods_and_alerts_are_read_only_and_journaled(api, users, active):
    from django.utils import timezone

    from parquet import services

    attribution = active()
    alert = services.alert_create(
        user=users["operator"], attribution_id=attribution.pk, occurred_at=timezone.now(), kind="missed_test"
    )
    client = api(users["supervisor"])
    for model, pk in (("decision", attribution.decision_id), ("attribution", attribution.pk), ("alert", alert.pk)):
        page = client.get(f"/admin/parquet/{model}/{pk}/change/")
        assert page.status_code == 200, model
        assert 'name="_save"' not in page.content.decode()
        assert AccessEvent.objects.filter(action=f"admin.{model}.view", object_id=str(pk)).count() == 1
        assert client.post(f"/admin/parquet/{model}/{pk}/delete/").status_code == 403
