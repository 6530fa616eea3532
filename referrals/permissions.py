"""Object-level grants on dossiers (django-guardian, direct FK tables); every change is journaled."""

from guardian.shortcuts import assign_perm, remove_perm

from audit.services import audit_record

VIEW = "view_referral"
CHANGE = "change_referral"
EVALUATE = "evaluate_referral"
DECIDE = "decide_referral"


def _target_label(user, group) -> str:
    return f"user:{user.pk}" if user is not None else f"group:{group.pk}"


def grant(*, actor, referral, perms, user=None, group=None) -> None:
    holder = user if user is not None else group
    for perm in perms:
        assign_perm(perm, holder, referral)
        audit_record(actor=actor, action="grant", obj=referral, detail=f"{perm}→{_target_label(user, group)}")


def revoke(*, actor, referral, perms, user=None, group=None) -> None:
    holder = user if user is not None else group
    for perm in perms:
        remove_perm(perm, holder, referral)
        audit_record(actor=actor, action="revoke", obj=referral, detail=f"{perm}→{_target_label(user, group)}")
