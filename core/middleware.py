"""Request ids and access lines, session lifetime and cache policy for authenticated pages."""

import logging
import re
import time
import uuid

from django.conf import settings
from django.contrib.auth import logout
from django.core.signals import request_finished
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import Resolver404, resolve
from django.utils.functional import SimpleLazyObject, empty

from core.logs import request_id

access_logger = logging.getLogger("vigie.access")
REQUEST_ID = re.compile(r"[A-Za-z0-9-]{8,64}")  # an incoming X-Request-ID is kept only if it is this

SESSION_STARTED_KEY = "vigie_started_at"
SESSION_REFRESHED_KEY = "vigie_refreshed_at"


class RequestIdMiddleware:
    """First of all: gives the request an id, set for the log lines written meanwhile and sent back as X-Request-ID
    (the caller's own if well-formed, so a proxy's id follows the request), then writes its one access line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        current = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        # Kept until the response is closed (`_forget_request_id`): Django logs a 4xx answer once past every
        # middleware, and a streamed file is sent after them too.
        request_id.set(current)
        started = time.perf_counter()
        response = self.get_response(request)
        response["X-Request-ID"] = current
        if not access_logger.isEnabledFor(logging.INFO):  # LOG_LEVEL=WARNING: no line, nothing to compute
            return response
        duration_ms = round((time.perf_counter() - started) * 1000)
        route = _route(request)
        access_logger.info(
            "%s %s %s %s ms",
            request.method,
            route or "-",
            response.status_code,
            duration_ms,
            extra={
                "method": request.method,
                "route": route,
                "status": response.status_code,
                "duration_ms": duration_ms,
                "user_id": _user_id(request),
            },
        )
        return response


@receiver(request_finished, dispatch_uid="vigie-forget-request-id")
def _forget_request_id(**kwargs):
    request_id.set(None)


def _route(request) -> str | None:
    """The URL pattern answered (`dossiers/<int:pk>/`), never the path nor its query: what was typed stays out."""
    match = getattr(request, "resolver_match", None)
    if match is None:  # answered before the view (a redirect, a refusal, an error): the pattern it was meant for
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
    return match.route


def _user_id(request) -> int | None:
    user = getattr(request, "user", None)
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None  # not loaded to serve the request: loading it for a log line would query the database
    return user.pk if user.is_authenticated else None


class SessionLifetimeMiddleware:
    """Ends a session 12 h after login whatever the activity; slides its idle expiry (SESSION_COOKIE_AGE).

    The idle expiry is pushed back by a session write at most every VIGIE_SESSION_REFRESH_SECONDS rather than
    on every request: one UPDATE less on nearly every page, for an idle limit early by at most that much.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated and hasattr(request, "session"):
            started = request.session.setdefault(SESSION_STARTED_KEY, int(time.time()))
            if time.time() - started > settings.VIGIE_SESSION_ABSOLUTE_SECONDS:
                logout(request)
                return redirect(settings.LOGIN_URL)
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is not None and SESSION_STARTED_KEY in session:  # signed in (a logout empties the session)
            now = int(time.time())
            if now - session.get(SESSION_REFRESHED_KEY, 0) >= settings.VIGIE_SESSION_REFRESH_SECONDS:
                session[SESSION_REFRESHED_KEY] = now  # modified: SessionMiddleware saves it, expiry slides
        return response


class PrivateCacheMiddleware:
    """No page seen by a signed-in user is ever stored by a browser or proxy cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (user is not None and user.is_authenticated) or request.path.startswith("/api/"):
            response["Cache-Control"] = "no-store"
        return response
