"""Role → auth Group of model-level permissions (what a role may do at all).

Object-level grants (on which dossier) come from organisation groups and per-user grants,
written by the services at each transition. No role holds a model-level permission on case
data: what a user sees of a dossier always comes from an object grant.
"""

from django.contrib.auth.models import Group, Permission

from accounts.models import Role

ROLE_GROUP_PREFIX = "rôle : "

ROLE_PERMISSIONS = {
    Role.REFERRER: {"referrals.add_referral"},
    Role.EVALUATOR: set(),
    Role.CIDFF_COORDINATOR: set(),
    Role.PROSECUTOR: set(),
    Role.OPERATOR: set(),
    Role.SUPERVISOR: {
        f"accounts.{action}_{model}"
        for action in ("view", "add", "change")
        for model in ("user", "organisation", "jurisdiction")
    }
    | {"audit.view_accessevent", "axes.view_accessattempt", "axes.delete_accessattempt"}
    | {"cidff.view_instrument", "cidff.add_instrument"}
    | {"parquet.view_device", "parquet.add_device", "parquet.change_device"}
    | {"retention.view_legalhold", "retention.add_legalhold", "retention.change_legalhold"},
}


def role_group_name(role: str) -> str:
    return f"{ROLE_GROUP_PREFIX}{Role(role).label}"


def sync_role_groups() -> None:
    """Create or update one group per role with exactly its permissions (idempotent).

    Runs after each app's migrate; the last run sees every permission.
    """
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role_group_name(role))
        wanted = Permission.objects.none()
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted |= Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        group.permissions.set(wanted)
