from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from accounts.models import User


class EmailAuthenticationForm(AuthenticationForm):
    username = forms.EmailField(
        label="Adresse e-mail", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"})
    )
    error_messages = {
        "invalid_login": "Adresse e-mail ou mot de passe incorrect.",
        "inactive": "Ce compte est désactivé.",
    }


class EmailPasswordResetForm(PasswordResetForm):
    email = forms.EmailField(
        label="Adresse e-mail", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def get_users(self, email):
        """Also an invited person who has not chosen her password yet (Django skips unusable passwords)."""
        return User.objects.filter(email__iexact=email.strip(), is_active=True).iterator()


def code_field(*, label: str, help_text: str) -> forms.CharField:
    """A one-time code as phones fill it in (numeric keypad, autofill from the authenticator)."""
    return forms.CharField(
        label=label,
        max_length=32,
        help_text=help_text,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )


class SecondFactorForm(forms.Form):
    code = code_field(
        label="Code de vérification",
        help_text="Les 6 chiffres affichés par votre application, ou l'un de vos codes de secours.",
    )


class EnrolmentForm(forms.Form):
    code = code_field(
        label="Code affiché par l'application",
        help_text="Saisissez les 6 chiffres pour confirmer que l'application est bien configurée.",
    )
