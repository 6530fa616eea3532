"""Login, logout and failed-login bookkeeping: journal entries and the open-session register (Django's auth signals)."""

import time

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from accounts.sessions import session_closed, session_opened
from audit.services import audit_record
from core.middleware import SESSION_REFRESHED_KEY, SESSION_STARTED_KEY


@receiver(user_logged_in, dispatch_uid="vigie_audit_login")
def _logged_in(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STARTED_KEY] = request.session[SESSION_REFRESHED_KEY] = int(time.time())
        session_opened(user=user, session_key=request.session.session_key)
    audit_record(actor=user, action="login", obj=user)


@receiver(user_logged_out, dispatch_uid="vigie_audit_logout")
def _logged_out(sender, request, user, **kwargs):
    if request is not None and hasattr(request, "session"):
        session_closed(session_key=request.session.session_key)
    if user is not None:
        audit_record(actor=user, action="logout", obj=user)


@receiver(user_login_failed, dispatch_uid="vigie_audit_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs):
    # The attempted e-mail is not journaled: it may be mistyped personal data.
    audit_record(actor=None, action="login_failed")
