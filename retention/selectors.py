"""What the dossier page shows of retention: the anonymisation notice and the legal hold panel."""

from retention.forms import LegalHoldForm
from retention.models import LegalHold
from retention.policies import may_hold, may_see_hold


def legal_hold_active(*, referral) -> LegalHold | None:
    return referral.legal_holds.filter(lifted_at__isnull=True).select_related("set_by").first()


def legal_hold_panel(*, user, referral, bound=None) -> dict | None:
    """The "Conservation" section: the notice of an anonymised dossier for whoever sees it; the hold for the
    parquet (reason, form, lift button) and the CIDFF coordination (only that one exists)."""
    holder = may_hold(user, referral)
    if referral.anonymised_at is None and not may_see_hold(user, referral):
        return None
    form = (bound or {}).get("hold")
    hold = legal_hold_active(referral=referral)
    return {
        "anonymised_at": referral.anonymised_at,
        "hold": hold,
        "show_reason": holder,
        "form": form or (LegalHoldForm(prefix="gel") if holder and not hold and not referral.anonymised_at else None),
        "may_lift": holder and hold is not None,
        "failed": form is not None and form.errors and {"anchor": "form-gel", "title": "Geler le dossier"},
    }
