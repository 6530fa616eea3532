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
