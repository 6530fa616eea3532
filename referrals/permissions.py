"""Object-level grants on dossiers (django-guardian, direct FK tables), written only by transitions.

A transition names holders (`referrals.workflow`: author, coordination, evaluator, parquet); this
module finds who they are on the dossier and writes the grants, each one journaled.
"""

from guardian.shortcuts import assign_perm, remove_perm

from audit.services import audit_record
from referrals.policies import referral_grants
from referrals.selectors import referral_parquet
from referrals.workflow import AUTHOR, COORDINATION, EVALUATOR, PARQUET


def holder_of(referral, name: str):
    """The user or group that `name` stands for on the dossier now (None when there is none yet)."""
    if name == AUTHOR:
        return referral.referrer
    if name == COORDINATION:
        return referral.cidff.coordinators_group
    if name == EVALUATOR:
        return referral.evaluator
    if name == PARQUET:
        parquet = referral_parquet(referral=referral)
        return parquet.group if parquet else None
    raise ValueError(name)


def _label(holder) -> str:
    return f"{'group' if holder._meta.model_name == 'group' else 'user'}:{holder.pk}"


def grant(*, actor, referral, perms, holder) -> None:
    for perm in perms:
        assign_perm(perm, holder, referral)
        audit_record(actor=actor, action="grant", obj=referral, detail=f"{perm}→{_label(holder)}")
    referral_grants.forget(referral)


def revoke(*, actor, referral, perms, holder) -> None:
    for perm in perms:
        remove_perm(perm, holder, referral)
        audit_record(actor=actor, action="revoke", obj=referral, detail=f"{perm}→{_label(holder)}")
    referral_grants.forget(referral)


def holders_before(referral, transition) -> dict:
    """Whom the transition's revocations concern, read before the move changes the dossier."""
    return {rule.holder: holder_of(referral, rule.holder) for rule in transition.revoke}


def transition_grants_apply(*, actor, referral, transition, before: dict) -> None:
    """Revoke from the holders as they were, then grant to the holders as they are."""
    for rule in transition.revoke:
        if before.get(rule.holder) is not None:
            revoke(actor=actor, referral=referral, perms=rule.perms, holder=before[rule.holder])
    for rule in transition.grant:
        holder = holder_of(referral, rule.holder)
        if holder is not None:
            grant(actor=actor, referral=referral, perms=rule.perms, holder=holder)
