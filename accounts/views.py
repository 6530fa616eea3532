"""Login pages (Django's auth views with French templates) and the lockout answer."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.shortcuts import render

from accounts.forms import EmailAuthenticationForm

LOCKED_OUT_MESSAGE = (
    "Compte verrouillé après {limit} échecs de connexion. Réessayez dans {minutes} minutes "
    "ou demandez à votre administrateur de le débloquer."
)


def locked_out_message() -> str:
    return LOCKED_OUT_MESSAGE.format(
        limit=settings.AXES_FAILURE_LIMIT, minutes=int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    )


def lockout_response(request, original_response=None, credentials=None):
    """django-axes lockout: JSON 429 for the API, a French page for the web."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": locked_out_message()}, status=429)
    return render(request, "registration/locked_out.html", {"message": locked_out_message()}, status=429)


class LoginView(auth_views.LoginView):
    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True
