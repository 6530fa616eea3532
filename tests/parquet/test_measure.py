"""Decisions, handover, renewal, end and return — through the API, with every refused role."""

import datetime
import io

import pytest
import time_machine
from django.utils import timezone
from pypdf import PdfReader

from cidff import services as cidff_services
from cidff.models import EvaluationReport
from notifications.models import Notification
from parquet import services
from parquet.models import Attribution, Decision, Device, DeviceEvent
from parquet.policies import alert_policy, attribution_policy, decision_policy
from parquet.services import measure_end_date
from referrals.models import Referral
from tests.clock import days_ago
from tests.evaluations import all_answers, complete
from tests.factories import renewal_report

pytestmark = pytest.mark.django_db


def decide(client, evaluation_id, outcome, **body):
    return client.post(
        "/api/v1/decisions/", {"evaluation": evaluation_id, "outcome": outcome, **body}, content_type="application/json"
    )


def handover(client, decision, device, **body):
    payload = {
        "decision": decision.pk,
        "device": device.pk,
        "handover_date": timezone.localdate().isoformat(),
        "consent": True,
        "geolocation_consent": False,
        **body,
    }
    return client.post("/api/v1/attributions/", payload, content_type="application/json")


def text_of(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize(
    "start, months, end",
    [
        (datetime.date(2026, 8, 31), 6, datetime.date(2027, 2, 28)),
        (datetime.date(2027, 8, 31), 6, datetime.date(2028, 2, 29)),  # leap year
        (datetime.date(2028, 2, 29), 6, datetime.date(2028, 8, 29)),
        (datetime.date(2026, 1, 31), 1, datetime.date(2026, 2, 28)),
        (datetime.date(2026, 12, 15), 6, datetime.date(2027, 6, 15)),
        (datetime.date(2026, 3, 31), 3, datetime.date(2026, 6, 30)),
    ],
)
def test_end_dates_use_calendar_months(start, months, end):
    assert measure_end_date(start, months) == end


def test_grant_then_handover_then_operator_and_alerts(
    api, users, make_evaluation, stock, django_capture_on_commit_callbacks
):
    evaluation = make_evaluation("sent")
    referral_id = evaluation.referral_id
    prosecutor = api(users["prosecutor_nanterre"])
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(prosecutor, evaluation.pk, "granted", reasoning="Danger grave caractérisé.")
    assert response.status_code == 201, response.json()
    decision = Decision.objects.get(pk=response.json()["id"])
    assert (decision.duration_months, decision.signed_by) == (6, "Paul Mercier")
    assert Referral.objects.get(pk=referral_id).status == "granted"
    pdf = prosecutor.get(f"/api/v1/decisions/{decision.pk}/document/")
    assert pdf.status_code == 200 and Referral.objects.get(pk=referral_id).reference in text_of(pdf.content)

    referrer = api(users["referrer_ccas"]).get(f"/api/v1/referrals/{referral_id}/").json()
    assert referrer["outcome_notice"].startswith("Téléphone attribué")
    assert "Danger grave caractérisé" not in str(referrer)
    assert Notification.objects.filter(user=users["referrer_ccas"], kind="outcome_notice").exists()

    coordinator = api(users["coord_sud"])
    with django_capture_on_commit_callbacks(execute=True):
        response = handover(coordinator, decision, stock[0], geolocation_consent=True)
    assert response.status_code == 201, response.json()
    attribution = Attribution.objects.get(pk=response.json()["id"])
    assert attribution.end_date == measure_end_date(timezone.localdate(), 6)
    assert Device.objects.get(pk=stock[0].pk).status == "assigned"
    assert Referral.objects.get(pk=referral_id).status == "active"

    operator = api(users["operator"])
    sheet_pdf = operator.get(f"/api/v1/attributions/{attribution.pk}/sheet/")
    assert sheet_pdf.status_code == 200 and sheet_pdf["Content-Type"] == "application/pdf"
    assert "Danger grave caractérisé" not in text_of(sheet_pdf.content)
    assert api(users["coord_nord"]).get(f"/api/v1/attributions/{attribution.pk}/sheet/").status_code == 404
    sheets = operator.get("/api/v1/attributions/").json()["results"]
    assert [s["id"] for s in sheets] == [attribution.pk]
    sheet = operator.get(f"/api/v1/attributions/{attribution.pk}/").json()
    assert sheet["victim"]["last_name"] and sheet["device_phone_number"] == stock[0].phone_number
    assert not {"decision", "evaluation", "score", "narrative", "reasoning"} & set(sheet)
    assert "narrative" not in str(sheet) and "score" not in str(sheet) and "computed" not in str(sheet)
    assert sheet["danger_level"] == {"code": evaluation.final_level, "label": "Danger grave"}
    assert sheet["geolocation_consent"] is True
    assert operator.get(f"/api/v1/referrals/{referral_id}/").status_code == 404
    assert operator.get(f"/api/v1/evaluations/{evaluation.pk}/").status_code == 404
    assert operator.get(f"/api/v1/decisions/{decision.pk}/").status_code == 404

    now = timezone.now().isoformat()
    response = operator.post(
        "/api/v1/alerts/",
        {
            "attribution": attribution.pk,
            "occurred_at": now,
            "kind": "real_alert",
            "police_intervention": True,
            "arrest": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    for key in ("coord_sud", "prosecutor_nanterre"):
        assert [a["kind"] for a in api(users[key]).get("/api/v1/alerts/").json()["results"]] == ["real_alert"]
    for key in ("coord_nord", "prosecutor_paris", "referrer_ccas", "eval_nord"):
        assert api(users[key]).get("/api/v1/alerts/").json()["results"] == []
        assert api(users[key]).get(f"/api/v1/attributions/{attribution.pk}/").status_code == 404
    assert Notification.objects.filter(user=users["coord_sud"], kind="alert_reported").exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"alert": "x"}, "alert"),
        ({"kind": "panne"}, "kind"),
        ({"arrest": True, "police_intervention": False}, "arrest"),
        ({"occurred_at": "tomorrow"}, "occurred_at"),
        ({"occurred_at": "hier"}, "occurred_at"),
    ],
)
def test_bad_alerts_are_refused(api, users, active, body, field):
    attribution = active()
    if body.get("occurred_at") == "tomorrow":  # in the future: refused
        body = {"occurred_at": (timezone.now() + datetime.timedelta(days=1)).isoformat()}
    payload = {"attribution": attribution.pk, "occurred_at": timezone.now().isoformat(), "kind": "real_alert", **body}
    response = api(users["operator"]).post("/api/v1/alerts/", payload, content_type="application/json")
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not attribution.alerts.exists()


def test_only_the_operator_reports_alerts(api, users, active):
    attribution = active()
    payload = {"attribution": attribution.pk, "occurred_at": timezone.now().isoformat(), "kind": "missed_test"}
    assert api(users["coord_sud"]).post("/api/v1/alerts/", payload, content_type="application/json").status_code == 403
    assert api(users["coord_nord"]).post("/api/v1/alerts/", payload, content_type="application/json").status_code == 404


def test_refusal_needs_a_reasoning_and_closes_the_dossier(api, users, make_evaluation):
    evaluation = make_evaluation("sent")
    prosecutor = api(users["prosecutor_nanterre"])
    assert decide(prosecutor, evaluation.pk, "refused").status_code == 400
    assert decide(prosecutor, evaluation.pk, "refused", reasoning="Conditions non réunies.").status_code == 201
    referral = Referral.objects.get(pk=evaluation.referral_id)
    assert (referral.status, referral.closure_reason) == ("closed", "refused")
    notice = api(users["referrer_ccas"]).get(f"/api/v1/referrals/{referral.pk}/").json()["outcome_notice"]
    assert notice == "Non attribué — autre orientation"
    assert decide(prosecutor, evaluation.pk, "granted").status_code == 409  # frozen: one decision per report


def test_info_request_leads_to_a_complement_and_a_second_report_version(api, users, make_evaluation):
    evaluation = make_evaluation("sent")
    prosecutor = api(users["prosecutor_nanterre"])
    response = decide(prosecutor, evaluation.pk, "info_requested", reasoning="Préciser la situation de l'auteur.")
    assert response.status_code == 201
    assert Referral.objects.get(pk=evaluation.referral_id).status == "info_requested"
    complement = cidff_services.evaluation_create(
        user=users["eval1_sud"], referral_id=evaluation.referral_id, kind="complement"
    )
    data = complete(answers=all_answers(yes=("V03", "V04", "A08")))
    cidff_services.evaluation_update(user=users["eval1_sud"], evaluation_id=complement.pk, data=data)
    cidff_services.evaluation_finalize(user=users["eval1_sud"], evaluation_id=complement.pk)
    cidff_services.evaluation_validate(user=users["coord_sud"], evaluation_id=complement.pk)
    cidff_services.evaluation_send(user=users["coord_sud"], evaluation_id=complement.pk)
    assert Referral.objects.get(pk=evaluation.referral_id).status == "report_sent"
    assert list(
        EvaluationReport.objects.filter(referral_id=evaluation.referral_id).values_list("version", flat=True)
    ) == [1, 2]
    assert decide(prosecutor, evaluation.pk, "granted").status_code == 409  # the old report is superseded
    assert decide(prosecutor, complement.pk, "granted", duration_months=3).status_code == 201


def test_reservation_until_release_then_grant(api, users, make_evaluation):
    evaluation = make_evaluation("sent")
    prosecutor = api(users["prosecutor_nanterre"])
    past = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    assert decide(prosecutor, evaluation.pk, "reserved", reserved_until=past).status_code == 400
    release = (timezone.localdate() + datetime.timedelta(days=40)).isoformat()
    response = decide(prosecutor, evaluation.pk, "reserved", reserved_until=release)
    assert response.status_code == 201 and response.json()["reserved_until"] == release
    assert Referral.objects.get(pk=evaluation.referral_id).status == "reserved"
    assert decide(prosecutor, evaluation.pk, "reserved", reserved_until=release).status_code == 409
    assert decide(prosecutor, evaluation.pk, "granted").status_code == 201
    assert Referral.objects.get(pk=evaluation.referral_id).status == "granted"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"outcome": "renewed"}, "outcome"),
        ({"outcome": "granted", "duration_months": 7}, "duration_months"),
        ({"outcome": "granted", "duration_months": 0}, "duration_months"),
        ({"outcome": "peut-être"}, "outcome"),
        ({"outcome": "granted", "reserved_until": "demain"}, "reserved_until"),
        ({"outcome": "granted", "signature": "x"}, "signature"),
    ],
)
def test_bad_decisions_are_refused_and_nothing_changes(api, users, make_evaluation, body, field):
    evaluation = make_evaluation("sent")
    response = api(users["prosecutor_nanterre"]).post(
        "/api/v1/decisions/", {"evaluation": evaluation.pk, **body}, content_type="application/json"
    )
    assert response.status_code == 400 and field in response.json(), response.json()
    assert not Decision.objects.exists()
    assert Referral.objects.get(pk=evaluation.referral_id).status == "report_sent"


def test_who_may_decide(api, users, make_evaluation):
    evaluation = make_evaluation("sent")
    assert decide(api(users["coord_sud"]), evaluation.pk, "granted").status_code == 403
    assert decide(api(users["referrer_ccas"]), evaluation.pk, "granted").status_code == 403  # sees the status only
    for key in ("prosecutor_paris", "operator", "coord_nord", "supervisor"):
        assert decide(api(users[key]), evaluation.pk, "granted").status_code == 404, key
    unsent = make_evaluation("validated")
    assert decide(api(users["prosecutor_nanterre"]), unsent.pk, "granted").status_code == 404
    assert not Decision.objects.exists()


def test_handover_refusals(api, users, decided, stock):
    decision = decided("granted")
    coordinator = api(users["coord_sud"])
    assert handover(coordinator, decision, stock[0], consent=False).status_code == 400
    future = (timezone.localdate() + datetime.timedelta(days=3)).isoformat()
    assert handover(coordinator, decision, stock[0], handover_date=future).status_code == 400
    response = handover(coordinator, decision, stock[3])  # a CIDFF 92 Nord phone
    assert response.status_code == 400 and "device" in response.json()
    services.device_update(user=users["coord_sud"], device_id=stock[1].pk, status="defective")
    assert handover(coordinator, decision, stock[1]).status_code == 409
    for key, expected in (("eval1_sud", 403), ("prosecutor_nanterre", 403), ("coord_nord", 404), ("operator", 404)):
        assert handover(api(users[key]), decision, stock[0]).status_code == expected, key
    assert not Attribution.objects.exists() and Device.objects.get(pk=stock[0].pk).status == "in_stock"
    assert handover(coordinator, decision, stock[0]).status_code == 201
    assert handover(coordinator, decision, stock[2]).status_code == 409  # already handed over


def test_renewal_opens_a_new_period_on_the_same_phone_without_gap(api, users, active):
    attribution = active(handover_date=days_ago(170))
    referral = attribution.referral
    renewal = renewal_report(referral)
    assert Referral.objects.get(pk=referral.pk).status == "reevaluation"
    prosecutor = api(users["prosecutor_nanterre"])
    assert decide(prosecutor, renewal.pk, "granted").status_code == 400  # renewal report: renew or end
    response = decide(prosecutor, renewal.pk, "renewed")
    assert response.status_code == 201, response.json()
    periods = list(Attribution.objects.filter(referral=referral).order_by("start_date"))
    assert [p.status for p in periods] == ["ended", "active"]
    assert periods[1].start_date == periods[0].end_date and periods[1].device_id == periods[0].device_id
    assert periods[1].end_date == measure_end_date(periods[0].end_date, 6)
    assert Referral.objects.get(pk=referral.pk).status == "active"
    sheets = api(users["operator"]).get("/api/v1/attributions/").json()["results"]
    assert [s["id"] for s in sheets] == [periods[1].pk]


def test_renewal_cap_of_the_convention(api, users, active):
    jurisdiction = users["coord_sud"].organisation.jurisdiction
    jurisdiction.max_renewals = 1
    jurisdiction.save()
    attribution = active(handover_date=days_ago(170))
    first = renewal_report(attribution.referral)
    assert decide(api(users["prosecutor_nanterre"]), first.pk, "renewed").status_code == 201
    second = renewal_report(attribution.referral)
    response = decide(api(users["prosecutor_nanterre"]), second.pk, "renewed")
    assert response.status_code == 409 and "limite les renouvellements à 1" in response.json()["detail"]


def test_end_decision_then_return_to_stock(api, users, active):
    attribution = active(handover_date=days_ago(170))
    renewal = renewal_report(attribution.referral)
    prosecutor = api(users["prosecutor_nanterre"])
    assert decide(prosecutor, renewal.pk, "ended").status_code == 400  # reasoning required
    assert decide(prosecutor, renewal.pk, "ended", reasoning="Auteur éloigné durablement.").status_code == 201
    referral = Referral.objects.get(pk=attribution.referral_id)
    assert referral.status == "ended"
    assert api(users["operator"]).get(f"/api/v1/attributions/{attribution.pk}/").status_code == 404

    coordinator = api(users["coord_sud"])
    url = f"/api/v1/attributions/{attribution.pk}/return/"
    assert (
        coordinator.post(
            url, {"returned_on": "2020-01-01", "condition": "good"}, content_type="application/json"
        ).status_code
        == 400
    )
    assert (
        api(users["prosecutor_nanterre"])
        .post(
            url, {"returned_on": timezone.localdate().isoformat(), "condition": "good"}, content_type="application/json"
        )
        .status_code
        == 403
    )
    response = coordinator.post(
        url, {"returned_on": timezone.localdate().isoformat(), "condition": "good"}, content_type="application/json"
    )
    assert response.status_code == 200, response.json()
    referral.refresh_from_db()
    assert (referral.status, referral.closure_reason) == ("closed", "measure_ended")
    device = Device.objects.get(pk=attribution.device_id)
    assert device.status == "in_stock"
    assert list(DeviceEvent.objects.filter(device=device).order_by("id").values_list("to_status", flat=True)) == [
        "in_stock",
        "assigned",
        "in_stock",
    ]
    assert (
        coordinator.post(
            url, {"returned_on": timezone.localdate().isoformat(), "condition": "good"}, content_type="application/json"
        ).status_code
        == 409
    )


def test_withdrawal_for_non_compliance_needs_the_copil_opinion(api, users, active):
    attribution = active()
    prosecutor = api(users["prosecutor_nanterre"])
    url = f"/api/v1/attributions/{attribution.pk}/withdraw/"
    response = prosecutor.post(url, {"reason": "non_compliance"}, content_type="application/json")
    assert response.status_code == 400 and "copil_opinion_date" in response.json()
    assert api(users["coord_sud"]).post(url, {"reason": "moved"}, content_type="application/json").status_code == 403
    operator = api(users["operator"])
    assert operator.get(f"/api/v1/attributions/{attribution.pk}/").status_code == 200
    assert operator.post(url, {"reason": "moved"}, content_type="application/json").status_code == 403
    assert (
        api(users["prosecutor_paris"]).post(url, {"reason": "moved"}, content_type="application/json").status_code
        == 404
    )
    response = prosecutor.post(
        url,
        {"reason": "non_compliance", "copil_opinion_date": days_ago(2).isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "withdrawn"
    assert Referral.objects.get(pk=attribution.referral_id).status == "ended"
    response = api(users["coord_sud"]).post(
        f"/api/v1/attributions/{attribution.pk}/return/",
        {"returned_on": timezone.localdate().isoformat(), "condition": "defective", "notes": "Écran cassé."},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert Device.objects.get(pk=attribution.device_id).status == "defective"
    assert Referral.objects.get(pk=attribution.referral_id).closure_reason == "non_compliance"


def test_term_reached_ends_the_measure_once(users, active):
    attribution = active(handover_date=days_ago(10))
    assert services.attribution_end_at_term(attribution_id=attribution.pk) is None  # not yet
    with time_machine.travel(timezone.now() + datetime.timedelta(days=200)):
        assert services.attribution_end_at_term(attribution_id=attribution.pk) is not None
        assert services.attribution_end_at_term(attribution_id=attribution.pk) is None  # idempotent
    attribution.refresh_from_db()
    assert attribution.status == "ended" and attribution.referral.status == "ended"
    assert attribution.referral.events.filter(action="term_reached").count() == 1


def test_devices_are_managed_by_supervisors_and_their_own_cidff(api, users, stock):
    coordinator = api(users["coord_sud"])
    assert {d["id"] for d in coordinator.get("/api/v1/devices/").json()["results"]} == {d.pk for d in stock[:3]}
    assert len(api(users["supervisor"]).get("/api/v1/devices/").json()["results"]) == 4
    for key in ("referrer_ccas", "eval1_sud", "prosecutor_nanterre", "operator"):
        assert api(users[key]).get("/api/v1/devices/").json()["results"] == []
        assert api(users[key]).get(f"/api/v1/devices/{stock[0].pk}/").status_code == 404
    assert coordinator.get(f"/api/v1/devices/{stock[3].pk}/").status_code == 404
    response = coordinator.post(
        "/api/v1/devices/",
        {"serial": "IMEI3512345678", "phone_number": "07 11 22 33 44"},
        content_type="application/json",
    )
    assert response.status_code == 201 and response.json()["organisation"] == users["coord_sud"].organisation_id
    assert (
        coordinator.post(
            "/api/v1/devices/",
            {"serial": "IMEI3512345678", "phone_number": "07 11 22 33 45"},
            content_type="application/json",
        ).status_code
        == 400
    )
    assert (
        coordinator.post(
            "/api/v1/devices/", {"serial": "x", "phone_number": "abc"}, content_type="application/json"
        ).status_code
        == 400
    )
    url = f"/api/v1/devices/{stock[0].pk}/"
    assert coordinator.patch(url, {"status": "assigned"}, content_type="application/json").status_code == 400
    assert (
        coordinator.patch(
            url, {"organisation": users["coord_nord"].organisation_id}, content_type="application/json"
        ).status_code
        == 403
    )
    response = coordinator.patch(url, {"status": "defective", "note": "Batterie HS"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "defective"
    history = coordinator.get(url).json()["events"]
    assert [e["to_status"] for e in history] == ["in_stock", "defective"]


def test_follow_up_contacts_by_the_cidff(users, active):
    from core.exceptions import Forbidden

    attribution = active()
    contact = services.followup_create(
        user=users["eval1_sud"],
        referral_id=attribution.referral_id,
        date=timezone.localdate(),
        channel="phone",
        notes="Point mensuel.",
    )
    assert contact.pk
    with pytest.raises(Forbidden):
        services.followup_create(
            user=users["prosecutor_nanterre"],
            referral_id=attribution.referral_id,
            date=timezone.localdate(),
            channel="phone",
            notes="x",
        )


def test_one_renewal_report_at_a_time(users, active):
    from core.exceptions import Conflict

    attribution = active(handover_date=days_ago(170))
    renewal_report(attribution.referral)
    with pytest.raises(Conflict, match="attend déjà la décision"):
        cidff_services.evaluation_create(user=users["eval1_sud"], referral_id=attribution.referral_id, kind="renewal")


def test_a_dossiers_measure_rows_read_from_its_grants_are_those_the_sql_filter_shows(users, active):
    """The dossier page's panels list a dossier's decisions, periods and alerts through `of_case()`: decided from
    the dossier's grants in memory for whoever holds it as her case, by the list's SQL filter for anyone else.
    Both roads must show every user exactly the same rows (none to a referrer, another CIDFF or parquet)."""
    attribution = active()
    referral = attribution.referral
    services.alert_create(
        user=users["operator"], attribution_id=attribution.pk, occurred_at=timezone.now(), kind="real_alert"
    )
    policies = {decision_policy: "referral", attribution_policy: "referral", alert_policy: "attribution__referral"}
    seen = {}
    for key, user in users.items():
        fresh = Referral.objects.get(pk=referral.pk)  # its grants read anew for each user, as on each page
        for policy, field in policies.items():
            by_sql = set(policy.instances_user_has_permission_for(user).filter(**{field: referral}))
            assert set(policy.of_case(user, fresh)) == by_sql, (key, policy.model.__name__)
            seen[key, policy.model.__name__] = len(by_sql)
    for key in ("coord_sud", "eval1_sud", "prosecutor_nanterre"):
        assert seen[key, "Decision"] == seen[key, "Attribution"] == seen[key, "Alert"] == 1
    for key in ("coord_nord", "eval_nord", "prosecutor_paris", "referrer_ccas", "supervisor"):
        assert seen[key, "Decision"] == seen[key, "Attribution"] == seen[key, "Alert"] == 0
    assert (seen["operator", "Decision"], seen["operator", "Attribution"], seen["operator", "Alert"]) == (0, 1, 1)
