"""The "Depuis…" date of the lists: kept on the dossier by every transition, dated from the timeline for the
dossiers that existed before it was kept."""

import datetime
import importlib

import pytest
from django.db import connection
from django.utils import timezone

from referrals.models import Referral

pytestmark = pytest.mark.django_db
BACKFILL = importlib.import_module("referrals.migrations.0007_referral_status_changed_at").BACKFILL


def _entered(referral) -> datetime.datetime:
    """When the timeline says the dossier entered its status: its last event leading there."""
    events = referral.events.filter(to_status=referral.status).order_by("-id")
    return events.values_list("created_at", flat=True).first()


@pytest.mark.parametrize("state", ["draft", "submitted", "received", "evaluation", "closed"])
def test_each_transition_dates_the_status_it_leads_to(make_referral, state):
    referral = make_referral(state)
    referral.refresh_from_db()
    assert referral.status == state
    assert referral.status_changed_at == _entered(referral)


def test_the_migration_dates_older_dossiers_from_their_timeline(make_referral):
    dossiers = [make_referral(state) for state in ("draft", "received", "evaluation")]
    Referral.objects.update(status_changed_at=timezone.now() - datetime.timedelta(days=1000))
    with connection.cursor() as cursor:
        cursor.execute(BACKFILL)
    for referral in dossiers:
        referral.refresh_from_db()
        assert referral.status_changed_at == _entered(referral)
