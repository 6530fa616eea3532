from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm


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


class SecondFactorForm(forms.Form):
    code = forms.CharField(
        label="Code de vérification",
        max_length=32,
        help_text="Les 6 chiffres affichés par votre application, ou l'un de vos codes de secours.",
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )


class EnrolmentForm(forms.Form):
    code = forms.CharField(
        label="Code affiché par l'application",
        max_length=32,
        help_text="Saisissez les 6 chiffres pour confirmer que l'application est bien configurée.",
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"}
        ),
    )
