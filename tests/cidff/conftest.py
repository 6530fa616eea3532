"""Evaluations brought to any state through the services."""

import pytest

from cidff import services
from cidff.instruments import definition_items
from cidff.models import Instrument

ELIGIBLE = {
    "victim_category": "partner_violence",
    "cohabiting": False,
    "consent": True,
    "legal_basis": "contact_ban",
    "ban_framework": "ordonnance_protection",
    "ban_authority": "JAF de Nanterre",
    "ban_date": "2026-10-01",
    "ban_expiry": "2027-10-01",
}


def all_answers(yes=(), unknown=()):
    items = definition_items(Instrument.objects.get(code="grille-vigie", is_active=True).definition)
    return {
        code: {"answer": "yes" if code in yes else "unknown" if code in unknown else "no", "comment": ""}
        for code in items
    }


COMPLETE = {
    "narrative": "Entretien au CIDFF le 20/11. Menaces de mort répétées depuis la séparation.",
    "recommendation": ["phone"],
    "eligibility": ELIGIBLE,
}

STATE_STEPS = {
    "draft": [],
    "finalized": ["finalize"],
    "validated": ["finalize", "validate"],
    "sent": ["finalize", "validate", "send"],
}


@pytest.fixture
def make_evaluation(users, make_referral):
    """make_evaluation(state="validated", yes=("V03", "V04"), **referral_overrides) — CIDFF 92 Sud, eval1."""

    def make(state="draft", yes=("V03", "V04"), unknown=(), eligibility=None, **referral_overrides):
        referral = make_referral("evaluation", **referral_overrides)
        evaluator, coordinator = users["eval1_sud"], users["coord_sud"]
        evaluation = services.evaluation_create(user=evaluator, referral_id=referral.pk)
        data = {**COMPLETE, "answers": all_answers(yes, unknown), "eligibility": {**ELIGIBLE, **(eligibility or {})}}
        services.evaluation_update(user=evaluator, evaluation_id=evaluation.pk, data=data)
        for step in STATE_STEPS[state]:
            actor = evaluator if step == "finalize" else coordinator
            getattr(services, f"evaluation_{step}")(user=actor, evaluation_id=evaluation.pk)
        evaluation.refresh_from_db()
        return evaluation

    return make
