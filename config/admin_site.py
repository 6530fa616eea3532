"""The supervisors' admin: an OTP admin site (a verified second factor is required), entered through Vigie's login."""

from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django_otp.admin import OTPAdminSite


class VigieAdminSite(OTPAdminSite):
    site_header = "Vigie — administration"
    site_title = "Vigie"
    index_title = "Comité de pilotage"

    def login(self, request, extra_context=None):
        """One login for the whole site: password, then the code (the admin's own form is never shown).

        A signed-in, verified person who is not a supervisor is refused (403), never sent round in a loop.
        """
        if self.has_permission(request):
            return redirect("admin:index")
        if request.user.is_authenticated:
            raise PermissionDenied
        next_url = request.GET.get("next") or reverse("admin:index")
        return redirect(f"{reverse('login')}?{urlencode({'next': next_url})}")
