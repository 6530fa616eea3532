"""Session lifetime and cache policy for authenticated pages."""

import time

from django.conf import settings
from django.contrib.auth import logout
from django.shortcuts import redirect

SESSION_STARTED_KEY = "vigie_started_at"
SESSION_REFRESHED_KEY = "vigie_refreshed_at"


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
