"""Nothing but the second-factor pages for a signed-in person who has not given their code yet."""

from urllib.parse import urlencode

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

from accounts.second_factor import second_factor_enrolled

# Reachable with a password alone: where the code is given or the application enrolled, and the way out.
OPEN_URL_NAMES = ("second_factor", "second_factor_enrol", "logout")
UNVERIFIED_API_MESSAGE = "Double authentification requise : saisissez votre code à la connexion."


class SecondFactorMiddleware:
    """After django-otp's OTPMiddleware: an unverified session reaches only enrolment, the code page and logout.

    The API answers 401 to such a session; bearer tokens are issued only with a code, so they pass.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self._open_paths = None

    def open_paths(self) -> set[str]:
        if self._open_paths is None:
            self._open_paths = {reverse(name) for name in OPEN_URL_NAMES}
        return self._open_paths

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated or user.is_verified() or request.path in self.open_paths():
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": UNVERIFIED_API_MESSAGE}, status=401)
        target = "second_factor" if second_factor_enrolled(user=user) else "second_factor_enrol"
        return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
