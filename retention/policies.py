"""Who may put or lift a legal hold, and who learns that one exists."""

from accounts.models import Role
from referrals.policies import referral_policy


def may_hold(user, referral) -> bool:
    """The steering committee (admin) and the prosecutor of the dossier's jurisdiction."""
    return user.role == Role.SUPERVISOR or referral_policy.may_decide(user, referral)


def may_see_hold(user, referral) -> bool:
    """Those who may hold it, and the CIDFF coordination of the dossier (that a hold exists, not why)."""
    coordination = (
        user.role == Role.CIDFF_COORDINATOR
        and user.organisation_id == referral.cidff_id
        and referral_policy.may_view(user, referral)
    )
    return coordination or may_hold(user, referral)
