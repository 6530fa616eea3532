"""The dashboard's figures: exact counts, scoping by role, medians, and a query count that does not grow."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from referrals import services as referral_services
from stats import selectors

pytestmark = pytest.mark.django_db

SUMMARY = "/api/v1/stats/summary/"


def counts(rows) -> dict:
    return {row["code"]: row["count"] for row in rows}


def summary_of(api, user, **params) -> dict:
    response = api(user).get(SUMMARY, params)
    assert response.status_code == 200, response.content
    return response.json()


def test_supervisor_sees_every_figure(api, users, figures):
    data = summary_of(api, users["supervisor"])
    assert data["scope"] == "Toutes les juridictions"
    assert data["referrals_total"] == 7  # the draft is not counted
    assert data["referrals_by_month"][-1] == {
        "code": f"{timezone.localdate():%Y-%m}",
        "label": data["referrals_by_month"][-1]["label"],
        "count": 7,
    }
    assert len(data["referrals_by_month"]) == 12
    assert counts(data["referrals_by_function"]) == {"travailleur_social": 6, "medecin": 1}
    assert data["evaluations_total"] == 4
    assert counts(data["evaluations_by_kind"]) == {"initial": 4, "renewal": 0, "complement": 0}
    levels = {row["code"]: (row["label"], row["computed"], row["final"]) for row in data["evaluation_levels"]}
    assert levels == {
        "severe": ("Danger grave", 3, 3),
        "high": ("Danger élevé", 0, 0),
        "watch": ("Danger à surveiller", 1, 1),
    }
    assert counts(data["decisions_by_outcome"]) == {
        "granted": 2,
        "refused": 1,
        "info_requested": 0,
        "reserved": 0,
        "renewed": 0,
        "ended": 0,
    }
    assert (data["decisions_total"], data["renewals"], data["handovers"], data["active_phones"]) == (3, 0, 2, 1)
    assert counts(data["alerts_by_kind"]) == {"real_alert": 1, "false_manipulation": 1, "missed_test": 0}
    assert (data["alerts_total"], data["police_interventions"], data["arrests"]) == (2, 1, 1)
    assert data["withdrawals_by_reason"] == [{"code": "moved", "label": "Déménagement", "count": 1}]
    assert data["overdue_deadlines"] == [
        {"code": "acknowledgement", "label": "Accusé de réception du signalement", "count": 2}
    ]
    assert data["devices_total"] == 4
    stock = {row["organisation"]: row["total"] for row in data["stock_by_organisation"]}
    assert stock == {"CIDFF 92 Sud": 3, "CIDFF 92 Nord": 1}
    delays = {row["code"]: (row["median"], row["count"]) for row in data["delays"]}
    # acknowledged: 92 Nord's received dossier and the four evaluated ones; all on the same day here
    assert delays["acknowledgement"][1] == 5
    assert delays["evaluation"][1] == 4 and delays["decision"][1] == 3
    assert delays["handover"] == (0.0, 2)


def test_coordinator_sees_her_cidff_only(api, users, figures):
    nord = summary_of(api, users["coord_nord"])
    assert nord["scope"] == "CIDFF 92 Nord (TJ de Nanterre)"
    assert (nord["referrals_total"], nord["evaluations_total"], nord["decisions_total"]) == (1, 0, 0)
    assert (nord["active_phones"], nord["alerts_total"], nord["overdue_deadlines_total"]) == (0, 0, 0)
    assert [(row["organisation"], row["total"]) for row in nord["stock_by_organisation"]] == [("CIDFF 92 Nord", 1)]
    sud = summary_of(api, users["coord_sud"])
    assert (sud["referrals_total"], sud["evaluations_total"], sud["handovers"], sud["alerts_total"]) == (5, 4, 2, 2)
    assert sud["overdue_deadlines_total"] == 1
    assert [row["organisation"] for row in sud["stock_by_organisation"]] == ["CIDFF 92 Sud"]


def test_prosecutor_sees_his_jurisdiction_only(api, users, figures):
    nanterre = summary_of(api, users["prosecutor_nanterre"])
    assert nanterre["scope"] == "TJ de Nanterre"
    assert (nanterre["referrals_total"], nanterre["decisions_total"], nanterre["overdue_deadlines_total"]) == (6, 3, 1)
    assert nanterre["devices_total"] == 4
    paris = summary_of(api, users["prosecutor_paris"])
    assert (paris["referrals_total"], paris["evaluations_total"], paris["devices_total"]) == (1, 0, 0)
    assert paris["overdue_deadlines_total"] == 1
    # his own jurisdiction may be named; another one does not exist for him (404), never relabelled
    own = users["prosecutor_paris"].organisation.jurisdiction_id
    assert summary_of(api, users["prosecutor_paris"], jurisdiction=own)["referrals_total"] == 1
    other = users["prosecutor_nanterre"].organisation.jurisdiction_id
    assert api(users["prosecutor_paris"]).get(SUMMARY, {"jurisdiction": other}).status_code == 404
    assert api(users["coord_paris"]).get(SUMMARY, {"jurisdiction": other}).status_code == 404


def test_supervisor_filters_by_jurisdiction_and_period(api, users, figures):
    paris = users["prosecutor_paris"].organisation.jurisdiction_id
    data = summary_of(api, users["supervisor"], jurisdiction=paris)
    assert (data["scope"], data["referrals_total"], data["decisions_total"]) == ("TJ de Paris", 1, 0)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    data = summary_of(api, users["supervisor"], to=yesterday.isoformat())
    assert (data["referrals_total"], data["evaluations_total"], data["alerts_total"]) == (0, 0, 0)
    assert data["active_phones"] == 1  # "now" figures ignore the period
    assert data["period_end"] == yesterday.isoformat()


def test_medians_are_the_middle_rows(users, make_referral):
    """Acknowledged after 2, 4 and 10 hours: median 4 h; a fourth after 6 h: median (4 + 6) / 2 = 5 h."""
    start = timezone.now().replace(microsecond=0) - datetime.timedelta(days=10)
    scope = selectors.stats_scope(user=users["supervisor"])

    def acknowledged_after(hours):
        with time_machine.travel(start, tick=False):
            referral = make_referral("submitted")
        with time_machine.travel(start + datetime.timedelta(hours=hours), tick=False):
            referral_services.referral_acknowledge(user=users["coord_sud"], referral_id=referral.pk)

    for hours in (10, 2, 4):
        acknowledged_after(hours)
    delay = selectors.stats_summary(scope=scope, period=selectors.default_period()).delays[0]
    assert (delay.code, delay.median, delay.unit, delay.count) == ("acknowledgement", 4.0, "heures", 3)
    acknowledged_after(6)
    delay = selectors.stats_summary(scope=scope, period=selectors.default_period()).delays[0]
    assert (delay.median, delay.count) == (5.0, 4)


def test_query_count_does_not_grow_with_the_dossiers(users, make_referral, active, stock):
    def queries() -> int:
        scope = selectors.stats_scope(user=users["supervisor"])
        with CaptureQueriesContext(connection) as captured:
            selectors.stats_summary(scope=scope, period=selectors.default_period())
        return len(captured)

    make_referral("submitted")
    active()
    few = queries()
    for state in ("submitted", "received", "evaluation", "closed"):
        make_referral(state, cidff="cidff92nord", evaluator="eval_nord")
    make_referral("received")
    active(device=stock[1])
    assert queries() == few
    assert few <= 25
