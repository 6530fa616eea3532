"""Fixtures for dossiers at any stage, built by the factories through the services (a plugin of the root conftest).

Shared by every test package: referrals, evaluations, decisions, the phone stock and running measures.
"""

import pytest

from tests.factories import (
    AttributionFactory,
    DecisionFactory,
    DeviceFactory,
    EvaluationFactory,
    ReferralFactory,
)


@pytest.fixture
def make_referral(world):
    """make_referral(state="received", referrer="referrer_ccas", cidff="cidff92sud", evaluator=…, **content)."""
    ReferralFactory.reset_sequence(0)

    def make(state="draft", **fields):
        return ReferralFactory(state=state, **fields)

    return make


@pytest.fixture
def make_evaluation(make_referral):
    """make_evaluation(state="validated", yes=("V03", "V04"), unknown=(), eligibility={…}, **referral_content)."""

    def make(state="draft", yes=("V03", "V04"), unknown=(), eligibility=None, **referral_fields):
        referral = make_referral("evaluation", **referral_fields)
        return EvaluationFactory(state=state, yes=yes, unknown=unknown, eligibility=eligibility, referral=referral)

    return make


@pytest.fixture
def stock(world):
    """Three phones in the CIDFF 92 Sud stock, one in the CIDFF 92 Nord stock (in serial order)."""
    DeviceFactory.reset_sequence(1)
    sud, nord = world.organisations["cidff92sud"], world.organisations["cidff92nord"]
    return [*DeviceFactory.create_batch(3, organisation=sud), DeviceFactory(organisation=nord)]


@pytest.fixture
def decided(make_evaluation):
    """decided("granted", **decision_fields) → the decision on a freshly sent report (CIDFF 92 Sud, Nanterre)."""

    def make(outcome="granted", **fields):
        return DecisionFactory(outcome=outcome, evaluation=make_evaluation("sent"), **fields)

    return make


@pytest.fixture
def active(decided, stock):
    """active(handover_date=…, device=…, **decision_fields) → the attribution of a dossier whose measure runs.

    The story happens on the handover day (default today; a past day at 11:00 in Paris, never in the future).
    """

    def make(handover_date=None, device=None, **fields):
        decision = {f"decision__{name}": value for name, value in fields.items()}
        return AttributionFactory(handover_date=handover_date, device=device or stock[0], **decision)

    return make
