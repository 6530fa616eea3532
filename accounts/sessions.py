"""Open sessions and API tokens of an account, and ending them: deactivation, device reset, password change, logout.

Sessions are deleted from the session store, not only made unresolvable, so re-activating an
account never revives an old cookie.
"""

from importlib import import_module

from django.conf import settings
from django.db import transaction

from accounts.models import ApiToken, LoginSession, User


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def session_opened(*, user: User, session_key: str | None) -> None:
    if session_key:
        LoginSession.objects.update_or_create(session_key=session_key, defaults={"user": user})


def session_closed(*, session_key: str | None) -> None:
    if session_key:
        LoginSession.objects.filter(session_key=session_key).delete()


def sessions_end(*, user: User, keep: str | None = None) -> int:
    """Delete every session of `user` but `keep` (the one in use, on a password change)."""
    store = _session_store()
    rows = LoginSession.objects.filter(user=user)
    if keep:
        rows = rows.exclude(session_key=keep)
    keys = list(rows.values_list("session_key", flat=True))
    for key in keys:
        store(session_key=key).delete()
    rows.delete()
    return len(keys)


def tokens_revoke(*, user: User) -> int:
    return ApiToken.objects.filter(user=user).delete()[0]


def access_end(*, user: User, keep_session: str | None = None) -> None:
    """Every session (but `keep_session`) and every API token of `user` end now."""
    with transaction.atomic():
        tokens_revoke(user=user)
        sessions_end(user=user, keep=keep_session)
