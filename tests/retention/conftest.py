"""Dossiers of every retention kind, dated by travelling back from the session's instant, with their files."""

import pytest
from django.utils import timezone

from parquet import services as parquet_services
from referrals import services as referral_services
from retention import services as retention_services
from tests.retention.helpers import attach, back, render_files


@pytest.fixture
def old(users, make_referral, make_evaluation, decided, active, stock):
    """Nanterre, 26 months ago: a draft, a dossier closed without a measure, a refusal, a measure ended and its
    phone returned, a closed dossier the parquet then held; plus a dossier closed today and one whose phone came
    back 5 days ago (its beneficiary sheet is past 3 days, the dossier itself is not)."""
    coordinator, prosecutor = users["coord_sud"], users["prosecutor_nanterre"]
    with back(months=26):
        draft = make_referral("draft")
        attach(draft, "referrer_ccas")
        closed = make_referral("closed")
        refused = decided("refused").referral
        render_files(refused)
        measure = active()
        attach(measure.referral, "coord_sud")
        render_files(measure.referral)
        parquet_services.attribution_withdraw(user=prosecutor, attribution_id=measure.pk, reason="moved")
        parquet_services.attribution_return(
            user=coordinator, attribution_id=measure.pk, returned_on=timezone.localdate(), condition="good"
        )
        held = decided("refused").referral
    with back(days=5):
        returned = active(device=stock[1])
        render_files(returned.referral)
        parquet_services.attribution_withdraw(user=prosecutor, attribution_id=returned.pk, reason="moved")
        parquet_services.attribution_return(
            user=coordinator, attribution_id=returned.pk, returned_on=timezone.localdate(), condition="good"
        )
    recent = make_referral("received")
    attach(recent, "coord_sud")
    referral_services.referral_close(user=coordinator, referral_id=recent.pk, reason="unreachable")
    retention_services.legal_hold_set(user=prosecutor, referral_id=held.pk, reason="Procédure pénale en cours.")
    return {
        "draft": draft,
        "closed": closed,
        "refused": refused,
        "measure": measure.referral,
        "held": held,
        "returned": returned.referral,
        "recent": recent,
    }
