"""Building blocks for evaluation tests: complete answers, an eligible situation dated from today, state steps."""

import datetime

from cidff.instruments import definition_items
from cidff.models import Instrument
from tests.clock import today

NARRATIVE = "Entretien au CIDFF le 20/11. Menaces de mort répétées depuis la séparation."


def eligible(**overrides) -> dict:
    """An eligible situation: a contact ban ordered two months ago for a year (so it runs ten more months)."""
    ordered = today() - datetime.timedelta(days=60)
    return {
        "victim_category": "partner_violence",
        "cohabiting": False,
        "consent": True,
        "legal_basis": "contact_ban",
        "ban_framework": "ordonnance_protection",
        "ban_authority": "JAF de Nanterre",
        "ban_date": ordered.isoformat(),
        "ban_expiry": (ordered + datetime.timedelta(days=365)).isoformat(),
        **overrides,
    }


def all_answers(yes=(), unknown=()):
    items = definition_items(Instrument.objects.get(code="grille-vigie", is_active=True).definition)
    return {
        code: {"answer": "yes" if code in yes else "unknown" if code in unknown else "no", "comment": ""}
        for code in items
    }


def complete(**overrides) -> dict:
    """What an evaluation needs besides its answers to be finalized and sent (eligibility as of today)."""
    return {"narrative": NARRATIVE, "recommendation": ["phone"], "eligibility": eligible(), **overrides}


STATE_STEPS = {
    "draft": [],
    "finalized": ["finalize"],
    "validated": ["finalize", "validate"],
    "sent": ["finalize", "validate", "send"],
}
