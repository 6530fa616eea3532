"""Dossiers brought along the measure by the services: decided, handed over, renewed, ended."""

import datetime

import pytest
import time_machine
from django.utils import timezone

from cidff import services as cidff_services
from parquet import services
from tests.evaluations import COMPLETE, ELIGIBLE, all_answers


@pytest.fixture
def stock(users):
    """Three phones in the CIDFF 92 Sud stock, one in the CIDFF 92 Nord stock."""
    devices = [
        services.device_create(
            user=users["supervisor"],
            serial=f"IMEI35{n:010d}",
            phone_number=f"07 00 00 00 {n:02d}",
            organisation_id=users["coord_sud"].organisation_id,
        )
        for n in range(1, 4)
    ]
    devices.append(
        services.device_create(
            user=users["supervisor"],
            serial="IMEI3599999999",
            phone_number="07 00 00 00 99",
            organisation_id=users["coord_nord"].organisation_id,
        )
    )
    return devices


@pytest.fixture
def decided(users, make_evaluation):
    """decided("granted", **decision_fields) → the decision on a freshly sent report (CIDFF 92 Sud, Nanterre)."""

    def make(outcome="granted", **fields):
        evaluation = make_evaluation("sent")
        if outcome in ("refused", "info_requested") and "reasoning" not in fields:
            fields["reasoning"] = "Motivation du parquet."
        return services.decision_create(
            user=users["prosecutor_nanterre"], evaluation_id=evaluation.pk, outcome=outcome, **fields
        )

    return make


@pytest.fixture
def active(users, decided, stock):
    """active(handover_date=…) → the attribution of a dossier whose measure is running."""

    def make(handover_date=None, device=None, **fields):
        handover_date = handover_date or timezone.localdate()
        # the whole story happens on the handover day (decisions cannot be backdated)
        with time_machine.travel(datetime.datetime.combine(handover_date, datetime.time(11)), tick=True):
            decision = decided("granted", **fields)
            return services.attribution_handover(
                user=users["coord_sud"],
                decision_id=decision.pk,
                device_id=(device or stock[0]).pk,
                handover_date=handover_date,
                consent=True,
                geolocation_consent=True,
            )

    return make


def renewal_report(users, referral):
    """The CIDFF re-evaluates before the term and sends a renewal report."""
    services.measure_start_reevaluation(user=users["coord_sud"], referral_id=referral.pk)
    evaluation = cidff_services.evaluation_create(user=users["eval1_sud"], referral_id=referral.pk, kind="renewal")
    data = {**COMPLETE, "answers": all_answers(yes=("V04", "S04")), "eligibility": ELIGIBLE}
    cidff_services.evaluation_update(user=users["eval1_sud"], evaluation_id=evaluation.pk, data=data)
    cidff_services.evaluation_finalize(user=users["eval1_sud"], evaluation_id=evaluation.pk)
    cidff_services.evaluation_validate(user=users["coord_sud"], evaluation_id=evaluation.pk)
    cidff_services.evaluation_send(user=users["coord_sud"], evaluation_id=evaluation.pk)
    return evaluation


def days_ago(days: int) -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=days)
