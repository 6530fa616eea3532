"""Web forms of the dossier: shape, lengths and French messages only.

The rules (who may do what, in which state, what a dossier needs before it leaves its author)
live in referrals.services; these forms only turn the posted fields into the keyword arguments
and the `data` dict (API shape) the services take, and put the services' errors back next to
the fields.
"""

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.forms import REFERRER_FUNCTION_CHOICES
from accounts.models import Organisation, OrganisationKind, User
from core.files import max_upload_label
from core.web import add_service_errors, parse_iso_date
from referrals.models import (
    ChildResidence,
    CustodyStatus,
    DocumentKind,
    DuplicateVerdict,
    MeasureType,
    Relationship,
    Urgency,
)
from referrals.selectors import evaluators_with_workload
from referrals.workflow import COORDINATOR_CLOSURE_REASONS, ClosureReason

RESIDENCE_CHOICES = ChildResidence.choices
COHABITING_CHOICES = [
    ("", "Non précisé pour l'instant"),
    ("non", "Non, ils ne vivent plus ensemble"),
    ("oui", "Oui, ils vivent encore ensemble"),
]
COHABITING_VALUES = {"oui": True, "non": False, "": None}
VICTIM_KEYS = (
    "last_name",
    "first_name",
    "birth_date",
    "phone",
    "email",
    "address",
    "safe_contact",
    "safe_times",
    "language",
    "interpreter",
    "disability",
)
AUTHOR_KEYS = ("last_name", "first_name", "birth_date", "description", "relationship", "custody_status", "release_date")
DATE_KEYS = {"birth_date", "release_date", "date", "expiry"}
BLANK = [("", "— Choisir —")]
MAX_CHILDREN = 20
MAX_MEASURES = 50


class DateInput(forms.DateInput):
    """A native date picker; the value travels as ISO 8601 whatever the display locale."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def _text(label, max_length, *, help_text="", rows=None, input_type="text", **attrs):
    if rows:
        widget = forms.Textarea(attrs={"rows": rows, **attrs})
    else:
        widget = forms.TextInput(attrs=attrs)
        widget.input_type = input_type
    return forms.CharField(label=label, max_length=max_length, required=False, help_text=help_text, widget=widget)


def _date(label, *, help_text=""):
    return forms.DateField(label=label, required=False, help_text=help_text, widget=DateInput())


def _choice(label, choices, *, help_text="", required=False, blank=True):
    return forms.ChoiceField(
        label=label,
        choices=(BLANK if blank else []) + list(choices),
        required=required,
        help_text=help_text,
    )


def _not_in_future(value, message):
    if value and value > timezone.localdate():
        raise ValidationError(message)
    return value


# --- the dossier ------------------------------------------------------------------------------


class ReferralForm(forms.Form):
    """Every single-valued field of a signalement, flat; children and measures are formsets."""

    # Destinataire et urgence
    cidff = forms.ModelChoiceField(
        label="CIDFF destinataire",
        queryset=Organisation.objects.none(),
        empty_label="— Choisir le CIDFF —",
        help_text="Le CIDFF du lieu de vie actuel de la victime.",
        error_messages={
            "required": "Choisissez le CIDFF destinataire.",
            "invalid_choice": "Ce CIDFF n'existe pas ou n'est plus actif.",
        },
    )
    urgency = forms.ChoiceField(
        label="Urgence",
        choices=Urgency.choices,
        initial=Urgency.NORMAL,
        widget=forms.RadioSelect,
        help_text="Urgente : danger imminent (auteur libre qui la recherche, sortie de détention proche…).",
        error_messages={"required": "Précisez l'urgence."},
    )
    # Votre fonction
    referrer_function = forms.ChoiceField(
        label="Votre fonction",
        choices=REFERRER_FUNCTION_CHOICES,
        help_text="Retenue pour vos prochains signalements ; modifiable dans « Mon compte ».",
        error_messages={"required": "Précisez votre fonction."},
    )
    # La victime
    # The labels name whose name it is: the error summary and a screen reader list fields out of their section.
    victim_last_name = _text("Nom de la victime", 80)
    victim_first_name = _text("Prénom de la victime", 80)
    victim_birth_date = _date("Date de naissance de la victime")
    victim_address = _text(
        "Adresse actuelle",
        300,
        rows=2,
        help_text="Ne l'indiquez que si l'auteur ne la connaît pas ou si elle est utile.",
    )
    victim_language = _text("Langue parlée", 60, help_text="Par exemple : français, arabe, tamoul.")
    victim_interpreter = forms.BooleanField(label="Un interprète est nécessaire", required=False)
    victim_disability = _text("Handicap ou vulnérabilité particulière", 200)
    # Joindre la victime en sécurité
    victim_phone = _text("Téléphone de la victime", 30, input_type="tel")
    victim_email = forms.EmailField(
        label="Adresse e-mail de la victime",
        max_length=120,
        required=False,
        error_messages={"invalid": "Saisissez une adresse e-mail valide."},
    )
    victim_safe_contact = _text(
        "Moyen de contact sûr",
        500,
        rows=3,
        help_text="Numéro sûr, personne relais, consignes (ne pas laisser de message…). "
        "Un téléphone ou un moyen de contact sûr est requis pour transmettre.",
    )
    victim_safe_times = _text(
        "Moments où la joindre sans danger", 200, help_text="Par exemple : en semaine entre 9 h et 12 h."
    )
    # L'auteur
    author_last_name = _text("Nom de l'auteur", 80)
    author_first_name = _text("Prénom de l'auteur", 80)
    author_birth_date = _date("Date de naissance de l'auteur")
    author_relationship = _choice("Lien avec la victime", Relationship.choices)
    author_custody_status = _choice("Situation de l'auteur", CustodyStatus.choices)
    author_release_date = _date("Date de libération prévue", help_text="Si l'auteur est détenu ou en garde à vue.")
    author_description = _text(
        "Signalement de l'auteur", 500, rows=2, help_text="Description physique, véhicule, lieux fréquentés…"
    )
    # Situation du couple
    cohabiting = forms.ChoiceField(
        label="La victime vit-elle encore avec l'auteur ?",
        choices=COHABITING_CHOICES,
        required=False,
        widget=forms.RadioSelect,
        help_text="Le Téléphone Grave Danger exige que la victime ne cohabite pas avec l'auteur "
        "(art. 41-3-1 du code de procédure pénale). Signalez la situation telle qu'elle est : "
        "le CIDFF étudiera une autre orientation si nécessaire.",
    )
    separation_date = _date("Date de la séparation")
    # Les faits
    facts = _text(
        "Description des faits",
        20000,
        rows=8,
        help_text="Faits récents, menaces, escalade, ce que la victime redoute. Restez factuel.",
    )
    # Information de la victime
    victim_informed = forms.BooleanField(
        label="La victime a été informée de ce signalement et l'accepte",
        required=False,
        help_text="Obligatoire pour transmettre : le dispositif repose sur son accord exprès.",
    )

    # Fields a dossier needs before it can be transmitted (referrals.services.referral_missing_fields).
    TRANSMIT_REQUIRED = (
        "victim_last_name",
        "victim_first_name",
        "author_last_name",
        "author_relationship",
        "cohabiting",
        "facts",
        "victim_informed",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["cidff"].queryset = Organisation.objects.filter(
            kind=OrganisationKind.CIDFF, is_active=True
        ).order_by("name")
        for name in self.TRANSMIT_REQUIRED:
            self.fields[name].transmit_required = True

    def clean_victim_birth_date(self):
        return _not_in_future(self.cleaned_data["victim_birth_date"], "La date de naissance ne peut pas être future.")

    def clean_author_birth_date(self):
        return _not_in_future(self.cleaned_data["author_birth_date"], "La date de naissance ne peut pas être future.")

    def clean_separation_date(self):
        return _not_in_future(self.cleaned_data["separation_date"], "La date de séparation ne peut pas être future.")


class ChildForm(forms.Form):
    first_name = _text("Prénom", 80)
    birth_date = _date("Date de naissance")
    common_child = forms.BooleanField(label="Enfant commun avec l'auteur", required=False, initial=True)
    residence = _choice("Résidence", RESIDENCE_CHOICES)

    def clean_birth_date(self):
        return _not_in_future(self.cleaned_data["birth_date"], "La date de naissance ne peut pas être future.")

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (data.get("first_name") or data.get("birth_date") or data.get("residence"))


class MeasureForm(forms.Form):
    type = _choice("Type", MeasureType.choices)
    authority = _text("Autorité ou service", 200, help_text="Juridiction, parquet, commissariat…")
    date = _date("Date")
    no_contact_ban = forms.BooleanField(label="Interdiction de contact avec la victime", required=False)
    expiry = _date("Échéance")

    def is_blank(self) -> bool:
        data = self.cleaned_data
        return not (
            data.get("type")
            or data.get("authority")
            or data.get("date")
            or data.get("expiry")
            or data.get("no_contact_ban")
        )

    def clean(self):
        data = super().clean()
        if self.is_blank():
            return data
        if not data.get("type"):
            self.add_error("type", "Précisez le type de mesure ou de plainte.")
        if data.get("date") and data.get("expiry") and data["expiry"] < data["date"]:
            self.add_error("expiry", "L'échéance précède la date de la mesure.")
        return data


class RowsFormSet(forms.BaseFormSet):
    """A few rows; blank ones are ignored."""

    def rows(self) -> list[dict]:
        return [dict(form.cleaned_data) for form in self.forms if form.cleaned_data and not form.is_blank()]


ChildFormSet = forms.formset_factory(
    ChildForm, formset=RowsFormSet, extra=2, max_num=MAX_CHILDREN, validate_max=True, absolute_max=MAX_CHILDREN
)
MeasureFormSet = forms.formset_factory(
    MeasureForm, formset=RowsFormSet, extra=2, max_num=MAX_MEASURES, validate_max=True, absolute_max=MAX_MEASURES
)


class ReferralEditor:
    """The signalement form and its two formsets, handled as one."""

    def __init__(self, data=None, *, referral=None, function=""):
        """`function`: the referrer's function remembered on her account, proposed on a new signalement."""
        initial, children, measures = referral_initial(referral) if referral is not None else ({}, [], [])
        if referral is None and function:
            initial["referrer_function"] = function
        self.form = ReferralForm(data, initial=initial)
        self.children = ChildFormSet(data, initial=children, prefix="enfants")
        self.measures = MeasureFormSet(data, initial=measures, prefix="mesures")

    def is_valid(self) -> bool:
        # every part is validated, so that all errors show at once
        return all([self.form.is_valid(), self.children.is_valid(), self.measures.is_valid()])

    def payload(self) -> dict:
        """The `data` dict of referral_create / referral_update (API shape). On an invalid form, what is valid
        of it (the completeness checks of a transmission read it; a partial payload is never saved)."""
        data = getattr(self.form, "cleaned_data", {})
        return {
            "cidff": data.get("cidff"),
            "urgency": data.get("urgency") or Urgency.NORMAL,
            "referrer_function": data.get("referrer_function", ""),
            "victim": {key: data.get(f"victim_{key}") for key in VICTIM_KEYS},
            "author": {key: data.get(f"author_{key}") for key in AUTHOR_KEYS},
            "children": self.children.rows() if self.children.is_valid() else [],
            "cohabiting": COHABITING_VALUES.get(data.get("cohabiting", "")),
            "separation_date": data.get("separation_date"),
            "facts": data.get("facts", ""),
            "measures": self.measures.rows() if self.measures.is_valid() else [],
            "victim_informed": data.get("victim_informed", False),
        }

    def add_service_errors(self, exc: ValidationError) -> None:
        add_service_errors(self.form, exc)

    def add_transmit_problems(self, problems: dict[str, str]) -> None:
        """The service's completeness checks, next to their fields (a field already in error keeps its own)."""
        for key, message in problems.items():
            name = key.replace(".", "_")
            if name not in self.form.fields:
                self.form.add_error(None, message)
            elif not self.form.errors.get(name):
                self.form.add_error(name, message)

    def error_summary(self) -> list[tuple[str, str]]:
        """(anchor, message) for the summary at the top of the page, in the order of the page."""
        summary = [("", message) for message in self.form.non_field_errors()]
        for field in self.form:
            summary += [(field.auto_id, f"{field.label} : {message}") for message in field.errors]
        for title, formset in (("Enfant", self.children), ("Mesure", self.measures)):
            summary += [("", message) for message in formset.non_form_errors()]
            for index, form in enumerate(formset.forms, start=1):
                for field in form:
                    summary += [(field.auto_id, f"{title} {index}, {field.label} : {m}") for m in field.errors]
        return summary


def referral_initial(referral) -> tuple[dict, list[dict], list[dict]]:
    """What the form shows when a draft is opened again: (fields, children rows, measure rows)."""
    victim, author = referral.victim or {}, referral.author or {}
    initial = {
        "cidff": referral.cidff_id,
        "urgency": referral.urgency,
        "referrer_function": referral.referrer_function,
        "author_relationship": referral.author_relationship,
        "author_custody_status": referral.author_custody_status,
        "author_release_date": referral.author_release_date,
        "cohabiting": {True: "oui", False: "non"}.get(referral.cohabiting, ""),
        "separation_date": referral.separation_date,
        "facts": referral.facts,
        "victim_informed": referral.victim_informed,
    }
    for key in VICTIM_KEYS:
        value = victim.get(key)
        initial[f"victim_{key}"] = parse_iso_date(value) if key in DATE_KEYS else value
    for key in ("last_name", "first_name", "birth_date", "description"):
        value = author.get(key)
        initial[f"author_{key}"] = parse_iso_date(value) if key in DATE_KEYS else value

    def rows(items):
        return [
            {key: parse_iso_date(value) if key in DATE_KEYS else value for key, value in item.items()} for item in items
        ]

    return initial, rows(referral.children or []), rows(referral.measures or [])


# --- actions on a dossier -----------------------------------------------------------------------


class ActionForm(forms.Form):
    """Every action form takes the dossier it acts on (some need it to build their choices)."""

    def __init__(self, *args, referral=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.referral = referral


class EmptyActionForm(ActionForm):
    """Submit, acknowledge: a button and the CSRF token, nothing else."""


class AssignForm(ActionForm):
    evaluator = forms.ModelChoiceField(
        label="Évaluatrice ou évaluateur",
        queryset=User.objects.none(),
        empty_label="— Choisir —",
        error_messages={
            "required": "Choisissez une évaluatrice ou un évaluateur.",
            "invalid_choice": "Choisissez une évaluatrice ou un évaluateur actif de votre CIDFF.",
        },
    )

    def __init__(self, *args, referral, **kwargs):
        super().__init__(*args, referral=referral, **kwargs)
        field = self.fields["evaluator"]
        field.queryset = evaluators_with_workload(cidff_id=referral.cidff_id, exclude=referral.evaluator_id)
        field.label_from_instance = workload_label
        field.help_text = "Entre parenthèses : ses dossiers en évaluation aujourd'hui."


def workload_label(evaluator) -> str:
    """ "Claire Martin — 3 dossiers en cours" (the count annotated by `evaluators_with_workload`)."""
    count = getattr(evaluator, "workload", 0)
    if not count:
        return f"{evaluator} — aucun dossier en cours"
    return f"{evaluator} — {count} dossier{'s' if count > 1 else ''} en cours"


class TransferForm(ActionForm):
    cidff = forms.ModelChoiceField(
        label="Nouveau CIDFF",
        queryset=Organisation.objects.none(),
        empty_label="— Choisir —",
        error_messages={
            "required": "Choisissez le CIDFF qui reprend le dossier.",
            "invalid_choice": "Ce CIDFF n'existe pas ou n'est plus actif.",
        },
    )
    reason = forms.CharField(
        label="Motif du transfert",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Visible par le CIDFF qui reprend le dossier.",
        error_messages={"required": "Indiquez le motif du transfert."},
    )

    def __init__(self, *args, referral, **kwargs):
        super().__init__(*args, referral=referral, **kwargs)
        self.fields["cidff"].queryset = (
            Organisation.objects.filter(kind=OrganisationKind.CIDFF, is_active=True)
            .exclude(pk=referral.cidff_id)
            .order_by("name")
        )


class CloseForm(ActionForm):
    reason = forms.ChoiceField(
        label="Motif de clôture",
        choices=BLANK
        + [(reason.value, reason.label) for reason in ClosureReason if reason in COORDINATOR_CLOSURE_REASONS],
        error_messages={"required": "Choisissez le motif de clôture."},
    )
    comment = forms.CharField(
        label="Commentaire",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Obligatoire si le motif est « Autre ».",
    )


class WithdrawForm(ActionForm):
    comment = forms.CharField(
        label="Motif du retrait (facultatif)",
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Ce commentaire sera lu par le CIDFF.",
    )


class DeleteForm(ActionForm):
    confirm = forms.BooleanField(
        label="Je confirme la suppression définitive de ce brouillon",
        error_messages={"required": "Cochez la case pour confirmer la suppression."},
    )


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(label="Type de pièce", choices=DocumentKind.choices, initial=DocumentKind.EVIDENCE)
    description = forms.CharField(label="Description (facultative)", max_length=1000, required=False)
    file = forms.FileField(
        label="Fichier",
        allow_empty_file=False,
        help_text=f"PDF, JPEG, PNG, audio ou vidéo ; {max_upload_label()} au maximum.",
        error_messages={
            "required": "Joignez un fichier.",
            "empty": "Le fichier est vide.",
            "invalid": "Aucun fichier n'a été envoyé : vérifiez le formulaire.",
        },
        widget=forms.FileInput(attrs={"accept": "application/pdf,image/jpeg,image/png,audio/*,video/*"}),
    )


class DuplicateAnswerForm(forms.Form):
    """Link a possible duplicate as the same woman, or dismiss it (the service checks both dossiers)."""

    other = forms.IntegerField(min_value=1, error_messages={"required": "Indiquez l'autre dossier."})
    verdict = forms.ChoiceField(
        choices=DuplicateVerdict.choices, error_messages={"invalid_choice": "Choisissez de lier ou d'écarter."}
    )


class SearchForm(forms.Form):
    q = forms.CharField(
        label="Rechercher une personne",
        max_length=200,
        required=False,
        help_text="Téléphone de la victime, ou « NOM Prénom JJ/MM/AAAA » de la victime ou de l'auteur (exact).",
    )
