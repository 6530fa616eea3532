"""Building blocks for evaluation tests: complete answers, an eligible situation, state steps."""

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
