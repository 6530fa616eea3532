from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm

from accounts.models import ReferrerFunction, User

# The referrer's functions, grouped by field and in the order the people who file most find theirs first
# (every ReferrerFunction exactly once; the API keeps the flat list).
REFERRER_FUNCTION_GROUPS = (
    (
        "Justice",
        (
            ReferrerFunction.PROSECUTOR,
            ReferrerFunction.FAMILY_JUDGE,
            ReferrerFunction.CHILDREN_JUDGE,
            ReferrerFunction.SENTENCING_JUDGE,
            ReferrerFunction.LIBERTY_JUDGE,
            ReferrerFunction.SPIP,
            ReferrerFunction.LAWYER,
            ReferrerFunction.LAW_ACCESS_POINT,
        ),
    ),
    ("Social", (ReferrerFunction.SOCIAL_WORKER, ReferrerFunction.RECEPTION)),
    ("Santé", (ReferrerFunction.DOCTOR, ReferrerFunction.HOSPITAL, ReferrerFunction.PMI)),
    ("Éducation", (ReferrerFunction.SCHOOL_HEAD,)),
    (
        "Police et gendarmerie",
        (
            ReferrerFunction.POLICE,
            ReferrerFunction.POLICE_SOCIAL_WORKER,
            ReferrerFunction.POLICE_PSYCHOLOGIST,
        ),
    ),
    ("Associations", (ReferrerFunction.VICTIM_SUPPORT,)),
    ("Autre", (ReferrerFunction.OTHER,)),
)
REFERRER_FUNCTION_CHOICES = [("", "— Choisir —")] + [
    (group, [(function.value, function.label) for function in functions])
    for group, functions in REFERRER_FUNCTION_GROUPS
]


class FunctionForm(forms.Form):
    """A referrer's function, proposed on her new signalements."""

    function = forms.ChoiceField(
        label="Votre fonction",
        choices=REFERRER_FUNCTION_CHOICES,
        required=False,
        help_text="Proposée sur vos nouveaux signalements ; vous pouvez la changer sur chacun.",
    )


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
