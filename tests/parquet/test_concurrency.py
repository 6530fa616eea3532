"""Concurrency on PostgreSQL: one decision per report, one holder per phone."""

from unittest import mock

import pytest
from django.utils import timezone

from core.exceptions import Conflict
from parquet import services
from parquet.models import Attribution, Decision, Device
from tests.factories import DecisionFactory, DeviceFactory
from tests.referrals.test_concurrency import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_prosecutors_deciding_at_once_make_one_decision(users, make_evaluation, world):
    from accounts.services import user_create
    from tests.factories import TEST_PASSWORD

    second = user_create(
        email="substitut.nanterre@vigie.test",
        password=TEST_PASSWORD,
        role="prosecutor",
        organisation=world.organisations["parquet_nanterre"],
    )
    evaluation = make_evaluation("sent")
    prosecutors = [users["prosecutor_nanterre"], second]
    outcomes = ["granted", "refused"]

    def decide(i):
        return services.decision_create(
            user=prosecutors[i % 2], evaluation_id=evaluation.pk, outcome=outcomes[i % 2], reasoning="Motif."
        )

    results = run_concurrently(6, decide)
    winners = [r for r in results if isinstance(r, Decision)]
    assert len(winners) == 1, results
    assert all(isinstance(r, Conflict) for r in results if r not in winners), results
    assert Decision.objects.filter(evaluation=evaluation).count() == 1


def test_fifty_concurrent_handovers_of_one_phone_have_one_winner(users, make_evaluation, world):
    device = DeviceFactory(organisation=world.organisations["cidff92sud"])
    # Committed for real here: each report and decision would be rendered by WeasyPrint (seconds each);
    # the race is about the handover, so the 100 PDFs of the setup are stubs.
    with mock.patch("core.pdf.html_to_pdf", return_value=b"%PDF-1.4\n%%EOF\n"):
        decisions = [DecisionFactory(outcome="granted", evaluation=make_evaluation("sent")) for _ in range(50)]

    def hand_over(i):
        return services.attribution_handover(
            user=users["coord_sud"],
            decision_id=decisions[i].pk,
            device_id=device.pk,
            handover_date=timezone.localdate(),
            consent=True,
            geolocation_consent=False,
        )

    results = run_concurrently(50, hand_over)
    winners = [r for r in results if isinstance(r, Attribution)]
    assert len(winners) == 1, [type(r).__name__ for r in results]
    losers = [r for r in results if r not in winners]
    assert all(isinstance(r, Conflict) and "pas disponible" in r.message for r in losers), {str(r) for r in losers}
    assert Attribution.objects.filter(device=device).count() == 1
    assert Device.objects.get(pk=device.pk).status == "assigned"
