"""One permission policy per model: the single answer to "may this user do this to this object?"
and "which objects may this user see?".

After Wagtail's permission policies: each guarded model has one policy object, and services,
selectors, views, serializers and templates all ask it instead of comparing roles or codenames.
`instances_user_has_permission_for(user, "view")` is one SQL query over the direct grant tables;
`user_has_permission_for_instance()` answers in memory from the object's grants, fetched once per
user and object (`granted()`).
"""

from django.contrib.auth.models import Permission
from django.db.models import Exists, OuterRef, Q, QuerySet

from core.exceptions import Forbidden, NotFound

DENIED = "Vous n'avez pas le droit de faire cette action."


def active(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active)


_permission_ids: dict[tuple[str, tuple[str, ...]], list[int]] = {}


def permission_ids(app_label: str, codenames: tuple[str, ...]) -> list[int]:
    """The ids of permissions, read once per process: literal ids give the planner true row estimates."""
    key = (app_label, codenames)
    if key not in _permission_ids:
        _permission_ids[key] = list(
            Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            .order_by("id")
            .values_list("id", flat=True)
        )
    return _permission_ids[key]


def forget_permission_ids(**kwargs) -> None:
    """Migrations (and the test database's flush) may renumber permissions."""
    _permission_ids.clear()


def group_ids(user):
    """The user's groups: the ids loaded with her account (`accounts.backends`), literal values whose grant
    counts PostgreSQL knows from its statistics; a subquery for an account loaded otherwise."""
    loaded = getattr(user, "group_ids", None)
    if loaded is not None:
        return loaded
    return user.groups.through.objects.filter(user_id=user.pk).values("group_id")


class ObjectGrants:
    """The object-level grants (django-guardian, direct foreign-key tables) of one model."""

    def __init__(self, *, app_label: str, user_table, group_table):
        self.app_label = app_label
        self.user_table = user_table
        self.group_table = group_table

    def q(self, *, user, codename: str | tuple[str, ...], outer: str = "pk") -> Q:
        """True for objects on which `user` holds `codename` (or one of them), directly or through a group.

        One `IN (direct grants UNION group grants)` subquery on the permission ids: PostgreSQL starts from
        the user's grant rows (the tables' unique indexes cover them) and joins them to the objects, instead
        of probing both grant tables for every object.
        """
        return Q(**{f"{outer}__in": self._granted_ids(user, codename)})

    def held_q(self, *, user, codename: str | tuple[str, ...], outer: str = "pk") -> Q:
        """The same test as `q()`, row by row: two index probes of the grant tables for each row.

        For a row set already narrowed (the visible dossiers of one state): cheaper than `q()`, which builds
        the whole set of the user's grants (thousands for a parquet) for each place the test appears."""
        permissions = permission_ids(self.app_label, (codename,) if isinstance(codename, str) else tuple(codename))
        row = {"content_object_id": OuterRef(outer), "permission_id__in": permissions}
        direct = self.user_table.objects.filter(user_id=user.pk, **row)
        grouped = self.group_table.objects.filter(group_id__in=group_ids(user), **row)
        return Q(Exists(direct)) | Q(Exists(grouped))

    def count(self, *, user, codename: str) -> int:
        """How many objects `user` holds `codename` on: counted on the grant tables alone, which hold no grant
        on a missing object (their foreign keys cascade), without joining the objects."""
        return self._granted_ids(user, codename).count()

    def newest_ids(self, *, user, codename: str, offset: int, limit: int) -> QuerySet | None:
        """The ids of the objects `user` holds `codename` on, `[offset:offset + limit]` of their descending order,
        read from the grant tables alone (their foreign keys cascade: a grant's object exists).

        Each branch (her own grants, then each of her groups') is read backwards on its unique index for
        `offset + limit` ids, and the branches are merged: the ids of a page of all her objects, newest first,
        without building the whole set of her grants (thousands for a parquet) and sorting it. None when her
        groups are not loaded as literal ids (`group_ids`): the caller filters as usual.
        """
        groups = group_ids(user)
        if not isinstance(groups, list) or limit <= 0:
            return None
        (permission,) = permission_ids(self.app_label, (codename,))  # one permission: no id twice in a branch
        branches = [self.user_table.objects.filter(user_id=user.pk, permission_id=permission)]
        branches += [self.group_table.objects.filter(group_id=group, permission_id=permission) for group in groups]
        newest = [
            branch.order_by("-content_object_id").values_list("content_object_id", flat=True)[: offset + limit]
            for branch in branches
        ]
        merged = newest[0].union(*newest[1:])  # UNION: an object granted twice is listed once
        return merged.order_by("-content_object_id")[offset : offset + limit]

    def _granted_ids(self, user, codename: str | tuple[str, ...]) -> QuerySet:
        codenames = (codename,) if isinstance(codename, str) else tuple(codename)
        permissions = permission_ids(self.app_label, codenames)
        direct = self.user_table.objects.filter(user_id=user.pk, permission_id__in=permissions)
        grouped = self.group_table.objects.filter(group_id__in=group_ids(user), permission_id__in=permissions)
        return direct.values("content_object_id").union(grouped.values("content_object_id"))

    def holders_q(self, *, obj, codename: str) -> Q:
        """For a User queryset: those who hold `codename` on `obj`."""
        perm = {
            "content_object": obj,
            "permission__codename": codename,
            "permission__content_type__app_label": self.app_label,
        }
        return Q(Exists(self.user_table.objects.filter(user=OuterRef("pk"), **perm))) | Q(
            Exists(self.group_table.objects.filter(group__user=OuterRef("pk"), **perm))
        )

    def granted(self, user, obj) -> frozenset[str]:
        """The codenames `user` holds on `obj` (one query, then cached on the object for that user)."""
        if not active(user):
            return frozenset()
        cache = obj.__dict__.setdefault("_granted_codenames", {})
        if user.pk not in cache:
            direct = self.user_table.objects.filter(user=user, content_object=obj).values_list("permission__codename")
            grouped = self.group_table.objects.filter(group__user=user, content_object=obj).values_list(
                "permission__codename"
            )
            cache[user.pk] = frozenset(codename for (codename,) in direct.union(grouped))
        return cache[user.pk]

    @staticmethod
    def forget(obj) -> None:
        """Drop the cached grants once a service has written new ones on `obj`."""
        obj.__dict__.pop("_granted_codenames", None)


class ModelPolicy:
    """Subclasses set `model`, `not_found`, and write `visible_q()` and one `may_<action>()` per action."""

    model = None
    not_found = "Élément introuvable."

    def visible_q(self, user) -> Q:
        raise NotImplementedError

    def base_queryset(self) -> QuerySet:
        return self.model.objects.all()

    def instances_user_has_permission_for(self, user, action: str = "view") -> QuerySet:
        """The objects on which `user` may take `action`; "view" is the visibility every list filters by."""
        if not active(user):
            return self.model.objects.none()
        queryset = self.base_queryset().filter(self.visible_q(user))
        if action != "view":
            queryset = queryset.filter(self.action_q(user, action))
        return queryset

    def count_visible(self, user) -> int:
        """How many objects `user` may see (a policy whose visibility is its grants alone counts them there)."""
        return self.instances_user_has_permission_for(user).count()

    def action_q(self, user, action: str) -> Q:
        raise NotImplementedError(f"{type(self).__name__} cannot list by « {action} »")

    def get_visible(self, user, pk, queryset: QuerySet | None = None):
        """The object if `user` may see it; NotFound (404: existence is not disclosed) otherwise."""
        queryset = self.instances_user_has_permission_for(user) if queryset is None else queryset
        try:
            return queryset.get(pk=pk)
        except (self.model.DoesNotExist, ValueError, TypeError):
            raise NotFound(self.not_found) from None

    def require_visible(self, user, pk) -> None:
        """NotFound (404) unless `user` may see object `pk`: what a request checks before reading its body, without
        loading (nor decrypting) the object that the service will read under its lock."""
        try:
            found = self.instances_user_has_permission_for(user).filter(pk=pk).exists()
        except (ValueError, TypeError):
            found = False
        if not found:
            raise NotFound(self.not_found)

    def user_has_permission_for_instance(self, user, action: str, instance) -> bool:
        if not active(user):
            return False
        return bool(getattr(self, f"may_{action}")(user, instance))

    def require(self, user, action: str, instance, message: str = DENIED) -> None:
        """Forbidden (403) unless `user` may take `action` on a visible `instance`."""
        if not self.user_has_permission_for_instance(user, action, instance):
            raise Forbidden(message)
