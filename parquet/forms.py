"""Web forms of the parquet and phone stage: shape, lengths and French messages only.

The rules (who decides, which outcome fits which report, the 1–6 months, the consent, the phone
in stock, the COPIL opinion for a withdrawal for non-compliance…) live in parquet.services; these
forms turn the posted fields into the services' keyword arguments and put their errors back next
to the fields (`referrals.forms.add_service_errors`).
"""

import datetime

from django import forms
from django.utils import timezone

from parquet.models import (
    WITHDRAWAL_REASONS_CHOICES,
    AlertKind,
    ContactChannel,
    DeviceReturn,
    DeviceStatus,
    Outcome,
)
from parquet.selectors import device_list_visible
from parquet.services import DEFAULT_DURATION_MONTHS, MANUAL_DEVICE_STATES
from referrals.forms import BLANK, DateInput

DURATION_CHOICES = [(months, f"{months} mois") for months in range(DEFAULT_DURATION_MONTHS, 0, -1)]


class WallClockDateTimeField(forms.DateTimeField):
    """A Paris wall time; in the hour repeated when clocks go back, the later occurrence unless it is still to come."""

    def to_python(self, value):
        if isinstance(value, str) and value.strip():
            for fmt in self.input_formats:
                try:
                    naive = datetime.datetime.strptime(value.strip(), fmt)
                except ValueError:
                    continue
                zone = timezone.get_current_timezone()
                first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
                if first.utcoffset() > second.utcoffset():  # the repeated autumn hour
                    return second if second <= timezone.now() else first
                break
        return super().to_python(value)


class DateTimeLocalInput(forms.DateTimeInput):
    """A native date-and-time picker (local time); the value travels as 2026-03-14T21:05."""

    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _notes(label, *, max_length=5000, rows=3, help_text=""):
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=False,
        help_text=help_text,
        widget=forms.Textarea(attrs={"rows": rows}),
    )


def _day(label, *, help_text="", initial=None, required=True, required_message="Indiquez la date."):
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        initial=initial,
        widget=DateInput(),
        error_messages={"required": required_message, "invalid": "Saisissez une date valide."},
    )


# --- the prosecutor's decision -------------------------------------------------------------------------

# The fields each outcome takes, in the order of the page (the others are neither shown nor read).
OUTCOME_FIELDS = {
    Outcome.GRANTED: ("duration_months", "reasoning"),
    Outcome.RENEWED: ("duration_months", "reasoning"),
    Outcome.REFUSED: ("reasoning",),
    Outcome.ENDED: ("reasoning",),
    Outcome.INFO_REQUESTED: ("question",),
    Outcome.RESERVED: ("reserved_until", "reasoning"),
}
REASONING_REQUIRED = (Outcome.REFUSED, Outcome.ENDED)


class DecisionForm(forms.Form):
    """The outcomes offered are the ones this report and this state allow (the service checks again)."""

    evaluation = forms.IntegerField(widget=forms.HiddenInput)
    outcome = forms.ChoiceField(
        label="Décision",
        widget=forms.RadioSelect,
        error_messages={"required": "Choisissez une décision.", "invalid_choice": "Cette décision n'est pas possible."},
    )
    reasoning = _notes(
        "Motivation",
        max_length=10000,
        rows=5,
        help_text="Obligatoire pour un refus ou une fin de mesure. Le référent ne la lit jamais.",
    )
    question = _notes(
        "Question posée au CIDFF",
        max_length=10000,
        rows=4,
        help_text="Obligatoire si vous demandez un complément : le CIDFF y répond par une nouvelle évaluation.",
    )
    duration_months = forms.TypedChoiceField(
        label="Durée de la période",
        coerce=int,
        empty_value=None,
        choices=DURATION_CHOICES,
        initial=DEFAULT_DURATION_MONTHS,
        required=False,
        help_text=(
            "Pour une attribution ou un renouvellement : 6 mois au plus. Une ordonnance provisoire de protection "
            "immédiate (OPPI) non encore suivie d'une ordonnance de protection peut justifier une durée plus courte."
        ),
    )
    reserved_until = forms.DateField(
        label="Téléphone réservé jusqu'au",
        required=False,
        widget=DateInput(),
        error_messages={"invalid": "Saisissez une date valide."},
        help_text="Pour une réservation : prérempli avec la date de libération de l'auteur indiquée au signalement.",
    )

    def __init__(self, *args, outcomes, evaluation, referral, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "evaluation": evaluation.pk,
                "duration_months": DEFAULT_DURATION_MONTHS,
                "reserved_until": referral.author_release_date,
            },
        )
        super().__init__(*args, **kwargs)
        self.outcomes = [Outcome(outcome) for outcome in outcomes]
        self.fields["outcome"].choices = [(outcome.value, outcome.label) for outcome in self.outcomes]
        if Outcome.INFO_REQUESTED not in self.outcomes:
            del self.fields["question"]
        if not {Outcome.GRANTED, Outcome.RENEWED} & set(self.outcomes):
            del self.fields["duration_months"]
        if Outcome.RESERVED not in self.outcomes:
            del self.fields["reserved_until"]

    def chosen(self) -> str:
        """The outcome posted (or proposed in the address), if it is one offered; "" otherwise."""
        value = self.data.get("outcome") if self.is_bound else self.initial.get("outcome")
        return value if value in self.outcomes else ""

    def chosen_fields(self) -> list:
        """The bound fields of the chosen outcome only (the second step of the page and its recap)."""
        outcome = self.chosen()
        if "reasoning" in self.fields:
            self.fields["reasoning"].help_text = (
                "Obligatoire pour cette décision. Le référent ne la lit jamais."
                if outcome in REASONING_REQUIRED
                else "Facultative. Le référent ne la lit jamais."
            )
        return [self[name] for name in OUTCOME_FIELDS.get(outcome, ()) if name in self.fields]

    def service_arguments(self) -> dict:
        """The keyword arguments of `decision_create` (the question is the reasoning of a request)."""
        data = self.cleaned_data
        outcome = data["outcome"]
        text = data.get("question", "") if outcome == Outcome.INFO_REQUESTED else data.get("reasoning", "")
        return {
            "evaluation_id": data["evaluation"],
            "outcome": outcome,
            "reasoning": text,
            "duration_months": data.get("duration_months") if outcome in (Outcome.GRANTED, Outcome.RENEWED) else None,
            "reserved_until": data.get("reserved_until") if outcome == Outcome.RESERVED else None,
        }

    def service_field(self, key: str) -> str:
        """Where a service error goes: the reasoning of a request for information is the question."""
        if (
            key == "reasoning"
            and self.cleaned_data.get("outcome") == Outcome.INFO_REQUESTED
            and "question" in self.fields
        ):
            return "question"
        return key


# --- the phone stock ------------------------------------------------------------------------------------


class DeviceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, device):
        return f"{device.serial} — {device.phone_number}"


class DeviceCreateForm(forms.Form):
    serial = forms.RegexField(
        label="Numéro de série / IMEI",
        regex=r"^[A-Za-z0-9-]{6,40}$",
        max_length=40,
        help_text="De 6 à 40 lettres, chiffres ou tirets.",
        error_messages={"required": "Indiquez le numéro de série.", "invalid": "Numéro de série invalide."},
    )
    phone_number = forms.RegexField(
        label="Numéro d'appel",
        regex=r"^\+?[0-9 ]{6,20}$",
        max_length=20,
        help_text="Par exemple : 07 81 00 00 01.",
        error_messages={"required": "Indiquez le numéro d'appel.", "invalid": "Numéro d'appel invalide."},
        widget=forms.TextInput(attrs={"type": "tel"}),
    )


class DeviceStatusForm(forms.Form):
    status = forms.ChoiceField(
        label="Nouvel état",
        choices=BLANK + [(state.value, state.label) for state in MANUAL_DEVICE_STATES],
        error_messages={"required": "Choisissez le nouvel état.", "invalid_choice": "Choisissez un état proposé."},
    )
    note = forms.CharField(
        label="Note (facultative)",
        max_length=300,
        required=False,
        help_text="Par exemple : écran cassé, envoyé au fournisseur.",
    )


class DeviceFilterForm(forms.Form):
    etat = forms.ChoiceField(label="État", required=False)

    def __init__(self, *args, counts: dict, **kwargs):
        super().__init__(*args, **kwargs)
        total = sum(counts.values())
        self.fields["etat"].choices = [("", f"Tous les états ({total})")] + [
            (state.value, f"{state.label} ({counts.get(state.value, 0)})") for state in DeviceStatus
        ]


# --- the handover -----------------------------------------------------------------------------------


class DocumentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, document):
        description = f" — {document.description}" if document.description else ""
        return f"Pièce n° {document.pk} ({document.get_kind_display()}{description})"


class HandoverForm(forms.Form):
    device = DeviceChoiceField(
        label="Téléphone remis",
        queryset=None,
        empty_label="— Choisir un téléphone en stock —",
        help_text="Seuls les téléphones en stock de votre CIDFF sont proposés.",
        error_messages={
            "required": "Choisissez le téléphone remis.",
            "invalid_choice": (
                "Ce téléphone n'est plus en stock (remis entre-temps ou changé d'état) : choisissez-en un autre."
            ),
        },
    )
    handover_date = _day("Date de la remise", required_message="Indiquez la date de la remise.")
    consent = forms.BooleanField(
        label="La bénéficiaire a donné son consentement exprès au dispositif",
        help_text="Sans consentement exprès, le téléphone ne peut pas être remis.",
        error_messages={"required": "Le consentement exprès de la bénéficiaire est indispensable."},
    )
    geolocation_consent = forms.BooleanField(
        label="La bénéficiaire accepte d'être géolocalisée lorsqu'elle déclenche une alerte",
        required=False,
        help_text="Consentement distinct et facultatif.",
    )
    agreement = DocumentChoiceField(
        label="Convention d'utilisation signée (facultatif)",
        queryset=None,
        required=False,
        empty_label="— Aucune pièce pour l'instant —",
        help_text="Déposez d'abord la convention signée dans les pièces du dossier.",
        error_messages={"invalid_choice": "Cette pièce n'appartient pas au dossier."},
    )

    def __init__(self, *args, user, referral, **kwargs):
        kwargs.setdefault("initial", {"handover_date": timezone.localdate()})
        super().__init__(*args, **kwargs)
        self.fields["device"].queryset = device_list_visible(user=user).filter(status=DeviceStatus.IN_STOCK)
        self.fields["agreement"].queryset = referral.documents.order_by("-id")


# --- the measure: withdrawal, re-evaluation, return, follow-up ------------------------------------------


class WithdrawalForm(forms.Form):
    reason = forms.ChoiceField(
        label="Motif du retrait",
        choices=BLANK + WITHDRAWAL_REASONS_CHOICES,
        error_messages={"required": "Choisissez le motif du retrait.", "invalid_choice": "Motif inconnu."},
    )
    copil_opinion_date = _day(
        "Date de l'avis du comité de pilotage",
        required=False,
        help_text="Obligatoire pour un retrait pour non-respect des conditions d'utilisation.",
    )
    comment = _notes("Commentaire", max_length=2000, help_text="Obligatoire si le motif est « Autre motif ».")


class EmptyForm(forms.Form):
    """Start the re-evaluation: a button and the CSRF token."""


class ReturnForm(forms.Form):
    returned_on = _day("Restitué le", required_message="Indiquez la date de restitution.")
    condition = forms.ChoiceField(
        label="État du téléphone",
        choices=DeviceReturn.CONDITIONS,
        widget=forms.RadioSelect,
        error_messages={"required": "Précisez l'état du téléphone restitué."},
    )
    notes = _notes("Observations (facultatives)", max_length=2000)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"returned_on": timezone.localdate()})
        super().__init__(*args, **kwargs)


class FollowUpForm(forms.Form):
    date = _day("Date du contact")
    channel = forms.ChoiceField(
        label="Canal",
        choices=BLANK + list(ContactChannel.choices),
        error_messages={"required": "Précisez le canal.", "invalid_choice": "Canal inconnu."},
    )
    notes = _notes("Résumé de l'échange", help_text="Ce que la bénéficiaire a dit, ce qui a été convenu.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"date": timezone.localdate()})
        super().__init__(*args, **kwargs)


# --- the operator ---------------------------------------------------------------------------------------


class AlertForm(forms.Form):
    occurred_at = WallClockDateTimeField(
        label="Date et heure de l'alerte",
        widget=DateTimeLocalInput(),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        error_messages={"required": "Indiquez la date et l'heure.", "invalid": "Saisissez une date et une heure."},
    )
    kind = forms.ChoiceField(
        label="Type",
        choices=AlertKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Précisez le type d'alerte.", "invalid_choice": "Type d'alerte inconnu."},
    )
    police_intervention = forms.BooleanField(label="Les forces de l'ordre sont intervenues", required=False)
    arrest = forms.BooleanField(label="L'auteur a été interpellé", required=False)
    notes = _notes("Observations (facultatives)", help_text="Ce qui s'est passé, délai d'intervention.")

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"occurred_at": timezone.localtime().replace(second=0, microsecond=0)})
        super().__init__(*args, **kwargs)
