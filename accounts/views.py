"""Login in two steps (password, then code), enrolment, logout, the account page and the lockout answer."""

from urllib.parse import urlencode

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp.plugins.otp_static.models import StaticDevice

from accounts import second_factor, selectors, services
from accounts.forms import EmailAuthenticationForm, EnrolmentForm, FunctionForm, SecondFactorForm
from accounts.models import Role

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


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse(settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    """Step one, the password; step two is the code page (or enrolment on a first login)."""

    form_class = EmailAuthenticationForm
    redirect_authenticated_user = True

    def get_success_url(self):
        return f"{reverse('second_factor')}?{urlencode({'next': super().get_success_url()})}"


class LogoutView(auth_views.LogoutView):
    """Logging out ends the session and revokes every API token of the account."""

    def post(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            services.user_logout(user=request.user, session_key=request.session.session_key)
        return super().post(request, *args, **kwargs)


def _locked_out(request) -> bool:
    return AxesProxyHandler.is_locked(request, credentials={"username": request.user.email})


def _refuse_locked(request):
    logout(request)
    return lockout_response(request)


@login_required
def second_factor_view(request):
    """Step two of the login: a code from the application or a backup code (throttled, counted by the lockout)."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if not second_factor.second_factor_enrolled(user=user):
        return redirect(f"{reverse('second_factor_enrol')}?{urlencode({'next': _next_url(request)})}")
    if _locked_out(request):
        return _refuse_locked(request)
    form = SecondFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = second_factor.second_factor_match(user=user, code=form.cleaned_data["code"])
        if device is not None:
            second_factor.second_factor_passed(request=request, user=user, device=device)
            if isinstance(device, StaticDevice):
                left = second_factor.backup_codes_left(user=user)
                messages.warning(
                    request,
                    f"Code de secours utilisé : il vous en reste {left}. "
                    "Générez-en de nouveaux depuis « Mon compte » si besoin.",
                )
            return redirect(_next_url(request))
        second_factor.second_factor_refused(request=request, user=user)
        if getattr(request, "axes_locked_out", False) or _locked_out(request):
            return _refuse_locked(request)
        form.add_error(
            "code",
            "Code incorrect, expiré ou déjà utilisé. Attendez le code suivant de l'application, "
            "ou utilisez un code de secours.",
        )
    return render(
        request,
        "registration/second_factor.html",
        {"form": form, "next": _next_url(request), "demo": settings.VIGIE_DEMO},
    )


@login_required
def second_factor_enrol_view(request):
    """First login (or after a reset): scan the QR code, confirm one code, keep the ten backup codes."""
    user = request.user
    if second_factor.second_factor_enrolled(user=user):
        return redirect(f"{reverse('second_factor')}?{urlencode({'next': _next_url(request)})}")
    if _locked_out(request):
        return _refuse_locked(request)
    device = second_factor.totp_pending(user=user)
    form = EnrolmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = second_factor.totp_confirm(request=request, user=user, code=form.cleaned_data["code"])
        if codes is not None:
            return render(request, "registration/backup_codes.html", {"codes": codes, "next": _next_url(request)})
        second_factor.second_factor_refused(request=request, user=user)
        if getattr(request, "axes_locked_out", False) or _locked_out(request):
            return _refuse_locked(request)
        form.add_error("code", "Code incorrect : vérifiez l'heure du téléphone et saisissez le code affiché.")
    return render(
        request,
        "registration/enrol.html",
        {
            "form": form,
            "qr_svg": second_factor.totp_qr_svg(device),
            "secret": second_factor.totp_secret_text(device),
            "next": _next_url(request),
        },
    )


@login_required
def account_view(request):
    """Who I am, my second factor, my API tokens (each revocable), my password."""
    user = request.user
    return render(
        request,
        "registration/account.html",
        {
            "tokens": selectors.token_list(user=user),
            "backup_codes_left": second_factor.backup_codes_left(user=user),
            "function_form": FunctionForm(initial={"function": user.function}) if user.role == Role.REFERRER else None,
        },
    )


@require_POST
@login_required
def function_set_view(request):
    """A referrer changes the function proposed on her new signalements."""
    if request.user.role != Role.REFERRER:
        raise Http404("Page introuvable.")
    form = FunctionForm(request.POST)
    if form.is_valid():
        services.user_function_set(user=request.user, function=form.cleaned_data["function"])
        messages.success(request, "Fonction enregistrée : elle sera proposée sur vos nouveaux signalements.")
    else:
        messages.error(request, "Choisissez une fonction de la liste.")
    return redirect(reverse("account") + "#fonction")


@require_POST
@login_required
def token_revoke_view(request, pk):
    """Revoke one of my tokens; any other id (another's, expired, unknown) is a 404."""
    if not services.token_revoke(actor=request.user, token_id=pk):
        raise Http404("Jeton introuvable.")
    messages.success(request, "Jeton révoqué : il ne donne plus accès à l'API.")
    return redirect("account")


@require_POST
@login_required
def backup_codes_renew_view(request):
    codes = second_factor.backup_codes_renew(user=request.user)
    return render(request, "registration/backup_codes.html", {"codes": codes, "next": reverse("account")})


class PasswordChangeView(auth_views.PasswordChangeView):
    """A new password ends every other session and every API token."""

    success_url = "/compte/"

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed(user=self.request.user, session_key=self.request.session.session_key)
        messages.success(self.request, "Mot de passe changé. Vos autres sessions et vos jetons d'API sont fermés.")
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A password set from the e-mailed link ends every session and token of the account."""

    def form_valid(self, form):
        response = super().form_valid(form)
        services.password_changed(user=form.user, session_key=None)
        return response
