"""Web forms of the danger evaluation: shape, lengths and French messages only.

The rules (who fills, in which state, what finalization needs, that the judgement only raises the
computed level, eligibility) live in cidff.services and cidff.eligibility; these forms turn the
posted fields into the `data` dict (API shape) of `evaluation_update` and put the services' errors
back next to the fields.
"""

from django import forms
from django.core.exceptions import ValidationError

from cidff.eligibility import BAN_FRAMEWORKS, ExceptionGround, LegalBasis, VictimCategory
from cidff.instruments import ANSWER_LABELS, ANSWERS
from cidff.models import Recommendation
from core.web import parse_iso_date
from referrals.forms import BLANK, COHABITING_CHOICES, COHABITING_VALUES, DateInput

INTERVIEW_SLOTS_MIN = 3
INTERVIEW_SLOTS_MAX = 10
COHABITING_FROM_VALUE = {True: "oui", False: "non", None: ""}
# Service error keys that are not one form field: shown at the top of their part of the page.
PART_ERRORS = {"answers": "grille", "eligibility": "section-eligibilite", "interview": "section-entretien"}


def _autosave(kind: str, **attrs) -> dict:
    return {"data-autosave": kind, **attrs}


def _text(label, max_length, *, kind, key=None, rows=None, help_text=""):
    attrs = _autosave(kind, **({"data-key": key} if key else {}))
    widget = forms.Textarea(attrs={"rows": rows, **attrs}) if rows else forms.TextInput(attrs=attrs)
    return forms.CharField(label=label, max_length=max_length, required=False, help_text=help_text, widget=widget)


def _date(label, *, kind, key=None, help_text=""):
    widget = DateInput(attrs=_autosave(kind, **({"data-key": key} if key else {})))
    return forms.DateField(label=label, required=False, help_text=help_text, widget=widget)


def _select(label, choices, *, kind, key=None, help_text=""):
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=False,
        help_text=help_text,
        widget=forms.Select(attrs=_autosave(kind, **({"data-key": key} if key else {}))),
    )


def _radios(label, choices, *, kind, key=None, help_text=""):
    return forms.ChoiceField(
        label=label,
        choices=choices,
        required=False,
        help_text=help_text,
        widget=forms.RadioSelect(attrs=_autosave(kind, **({"data-key": key} if key else {}))),
    )


class EvaluationForm(forms.Form):
    """The whole evaluation, as one form: every section posts everything, so no work is ever lost.

    Item fields are built from the evaluation's instrument version: `answer_<code>` (radios) and
    `comment_<code>` (text) for each item.
    """

    # Éligibilité (art. 41-3-1 CPP)
    victim_category = _radios("Catégorie de victime", VictimCategory.choices, kind="eligibility", key="victim_category")
    cohabiting = _select(
        "Cohabitation avec l'auteur",
        COHABITING_CHOICES,
        kind="eligibility",
        key="cohabiting",
        help_text="Le téléphone grave danger ne peut pas être attribué si la victime vit avec l'auteur.",
    )
    consent = forms.BooleanField(
        label="La victime a donné son consentement exprès au dispositif",
        required=False,
        widget=forms.CheckboxInput(attrs=_autosave("eligibility", **{"data-key": "consent"})),
    )
    legal_basis = _radios("Fondement", LegalBasis.choices, kind="eligibility", key="legal_basis")
    ban_framework = _select(
        "Cadre de l'interdiction de contact", BLANK + BAN_FRAMEWORKS, kind="eligibility", key="ban_framework"
    )
    ban_authority = _text(
        "Autorité qui l'a prononcée",
        200,
        kind="eligibility",
        key="ban_authority",
        help_text="Par exemple : JAF de Nanterre.",
    )
    ban_date = _date("Date de la décision", kind="eligibility", key="ban_date")
    ban_expiry = _date(
        "Échéance de l'interdiction",
        kind="eligibility",
        key="ban_expiry",
        help_text="Laissez vide si elle n'a pas d'échéance connue.",
    )
    exception_ground = _select(
        "Motif de l'exception", BLANK + list(ExceptionGround.choices), kind="eligibility", key="exception_ground"
    )
    justification = _text(
        "Justification du danger avéré et imminent", 5000, kind="eligibility", key="justification", rows=4
    )

    # Entretien(s)
    interview_place = _text(
        "Lieu de l'entretien", 300, kind="interview", help_text="Par exemple : permanence du CIDFF, par téléphone."
    )

    # Conclusion
    judgement = forms.ChoiceField(label="Niveau retenu", required=False, choices=[])
    judgement_reason = _text(
        "Motif du relèvement",
        5000,
        kind="judgement_reason",
        rows=4,
        help_text="Obligatoire si vous retenez un niveau plus élevé que le niveau calculé.",
    )
    narrative = _text(
        "Synthèse de l'évaluation",
        20000,
        kind="narrative",
        rows=10,
        help_text="Ce que le procureur doit savoir : la situation, les éléments de danger, le contexte.",
    )
    recommendation = forms.MultipleChoiceField(
        label="Préconisations",
        choices=Recommendation.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs=_autosave("recommendation")),
        error_messages={"invalid_choice": "Préconisation inconnue."},
    )

    def __init__(self, *args, evaluation, **kwargs):
        self.evaluation = evaluation
        self.definition = evaluation.instrument.definition
        dates = (evaluation.interview or {}).get("dates") or []
        self.interview_slots = min(INTERVIEW_SLOTS_MAX, max(INTERVIEW_SLOTS_MIN, len(dates) + 1))
        if not args and "data" not in kwargs:
            kwargs.setdefault("initial", evaluation_initial(evaluation, self.interview_slots))
        super().__init__(*args, **kwargs)
        self.part_errors = {}  # {"answers": [...], "eligibility": [...], "interview": [...]}
        self.missing_items = set()
        for section in self.definition["sections"]:
            for item in section["items"]:
                code = item["code"]
                self.fields[f"answer_{code}"] = forms.ChoiceField(
                    label=item["text"],
                    choices=[(value, ANSWER_LABELS[value]) for value in ANSWERS],
                    required=False,
                    widget=forms.RadioSelect(attrs=_autosave("answer", **{"data-item": code})),
                    error_messages={"invalid_choice": "Répondez Oui, Non ou Ne sait pas."},
                )
                self.fields[f"comment_{code}"] = forms.CharField(
                    label="Commentaire",
                    max_length=2000,
                    required=False,
                    widget=forms.Textarea(attrs={"rows": 2, **_autosave("answer", **{"data-item": code})}),
                )
        for slot in range(1, self.interview_slots + 1):
            self.fields[f"interview_date_{slot}"] = _date(
                "Date de l'entretien" if slot == 1 else f"Date d'un autre entretien ({slot})", kind="interview"
            )
        self.fields["judgement"].choices = [("", "Niveau calculé par la grille (pas de relèvement)")] + [
            (level["code"], level["label"]) for level in self.definition["levels"]
        ]
        self.fields["judgement"].widget.attrs.update(_autosave("judgement"))

    # --- reading the grid -----------------------------------------------------------------------------

    def interview_date_fields(self):
        return [self[f"interview_date_{slot}"] for slot in range(1, self.interview_slots + 1)]

    def grid(self) -> list[dict]:
        """The instrument's sections with their items' bound fields, for the template.

        Each item's three answers come as plain values ("choices") that `_item.html` writes out itself: rendering
        them through Django's radio widget templates took half the page's time (three templates per item)."""
        sections = []
        for section in self.definition["sections"]:
            items = []
            for item in section["items"]:
                code = item["code"]
                answer = self[f"answer_{code}"]
                value = answer.value()
                items.append(
                    {
                        **item,
                        "answer": answer,
                        "choices": [
                            {"value": choice, "label": label, "id": f"{answer.auto_id}_{n}", "checked": choice == value}
                            for n, (choice, label) in enumerate(answer.field.choices)
                        ],
                        "invalid": bool(answer.errors),
                        "comment": self[f"comment_{code}"],
                        "value": value,
                        "missing": code in self.missing_items,
                    }
                )
            sections.append(
                {
                    "code": section["code"],
                    "title": section["title"],
                    "items": items,
                    "answered": sum(1 for item in items if item["value"] in ANSWERS),
                }
            )
        return sections

    # --- checks and payload ---------------------------------------------------------------------------

    def clean(self):
        cleaned = super().clean()
        for code in self._item_codes():
            if cleaned.get(f"comment_{code}", "").strip() and not cleaned.get(f"answer_{code}"):
                self.add_error(f"comment_{code}", "Choisissez Oui, Non ou Ne sait pas pour enregistrer ce commentaire.")
        return cleaned

    def _item_codes(self):
        return [item["code"] for section in self.definition["sections"] for item in section["items"]]

    def payload(self) -> dict:
        """The `data` of `evaluation_update`, API shape (dates as ISO strings)."""
        data = self.cleaned_data
        answers = {
            code: {"answer": data[f"answer_{code}"], "comment": data.get(f"comment_{code}", "")}
            for code in self._item_codes()
            if data.get(f"answer_{code}")
        }
        dates = [data.get(f"interview_date_{slot}") for slot in range(1, self.interview_slots + 1)]
        return {
            "answers": answers,
            "eligibility": {
                "victim_category": data["victim_category"],
                "cohabiting": COHABITING_VALUES[data["cohabiting"]],
                "consent": data["consent"],
                "legal_basis": data["legal_basis"],
                "ban_framework": data["ban_framework"],
                "ban_authority": data["ban_authority"].strip(),
                "ban_date": data["ban_date"].isoformat() if data["ban_date"] else None,
                "ban_expiry": data["ban_expiry"].isoformat() if data["ban_expiry"] else None,
                "exception_ground": data["exception_ground"],
                "justification": data["justification"].strip(),
            },
            "interview": {
                "dates": sorted({day.isoformat() for day in dates if day}),
                "place": data["interview_place"].strip(),
            },
            "judgement": data["judgement"],
            "judgement_reason": data["judgement_reason"].strip(),
            "narrative": data["narrative"].strip(),
            "recommendation": list(data["recommendation"]),
        }

    def add_service_errors(self, exc: ValidationError, *, unanswered=()) -> None:
        """A service's errors next to their fields; `answers`, `eligibility`, `interview` above their part."""
        self.missing_items = set(unanswered)
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for key, messages in exc.message_dict.items():
            if key in PART_ERRORS:
                self.part_errors.setdefault(key, []).extend(messages)
            elif key in self.fields:
                self.add_error(key, messages)
            else:
                self.add_error(None, messages)

    def missing_item_links(self) -> list[tuple[str, str, str]]:
        """(anchor, code, wording) of each item left without an answer at finalization, in the grid's order."""
        return [
            (f"item-{item['code']}", item["code"], item["text"])
            for section in self.definition["sections"]
            for item in section["items"]
            if item["code"] in self.missing_items
        ]

    def error_summary(self) -> list[tuple[str, str]]:
        """(anchor, message) for the summary at the top of the page."""
        summary = [("", error) for error in self.non_field_errors()]
        for key, anchor in PART_ERRORS.items():
            # the unanswered items are listed one by one under the grid's entry (missing_item_links)
            summary += [(anchor, message) for message in self.part_errors.get(key, [])]
        for name, errors in self.errors.items():
            if name == "__all__":
                continue
            field, anchor = self[name], self[name].auto_id
            label = field.label
            if name.startswith("comment_"):
                label = f"Commentaire de l'élément {name.removeprefix('comment_')}"
            elif name.startswith("answer_"):
                label, anchor = f"Élément {name.removeprefix('answer_')}", f"item-{name.removeprefix('answer_')}"
            elif name in ("victim_category", "legal_basis", "recommendation"):
                anchor = f"{field.auto_id}_0"
            summary += [(anchor, f"{label} : {error}") for error in errors]
        return summary


def evaluation_initial(evaluation, interview_slots: int) -> dict:
    """The stored evaluation as form values."""
    eligibility = evaluation.eligibility or {}
    interview = evaluation.interview or {}
    initial = {
        "victim_category": eligibility.get("victim_category", ""),
        "cohabiting": COHABITING_FROM_VALUE.get(eligibility.get("cohabiting"), ""),
        "consent": eligibility.get("consent") is True,
        "legal_basis": eligibility.get("legal_basis", ""),
        "ban_framework": eligibility.get("ban_framework", ""),
        "ban_authority": eligibility.get("ban_authority", ""),
        "ban_date": parse_iso_date(eligibility.get("ban_date")),
        "ban_expiry": parse_iso_date(eligibility.get("ban_expiry")),
        "exception_ground": eligibility.get("exception_ground", ""),
        "justification": eligibility.get("justification", ""),
        "interview_place": interview.get("place", ""),
        "judgement": evaluation.judgement,
        "judgement_reason": evaluation.judgement_reason,
        "narrative": evaluation.narrative,
        "recommendation": list(evaluation.recommendation or []),
    }
    for slot, day in enumerate((interview.get("dates") or [])[:interview_slots], start=1):
        initial[f"interview_date_{slot}"] = parse_iso_date(day)
    for code, answer in (evaluation.answers or {}).items():
        initial[f"answer_{code}"] = answer.get("answer", "")
        initial[f"comment_{code}"] = answer.get("comment", "")
    return initial


# --- second reading and addenda ----------------------------------------------------------------------


class ReturnForm(forms.Form):
    comment = forms.CharField(
        label="Ce qui doit être repris",
        max_length=5000,
        required=False,  # the service refuses an empty reason, with its own French message
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="L'évaluatrice lira ce commentaire en tête de son évaluation.",
    )


class EmptyForm(forms.Form):
    """Validate, send, start: a button and the CSRF token."""


NO_CORRECTION = ("", "Pas de correction")


class AddendumForm(forms.Form):
    text = forms.CharField(
        label="Addendum",
        max_length=5000,
        required=False,  # the service refuses an empty addendum, with its own French message
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Une correction ou une précision ; les réponses finalisées ne se modifient plus.",
    )
    # Eligibility corrections (optional): applied to the evaluation with the addendum that explains them.
    cohabiting = forms.ChoiceField(
        label="Corriger la cohabitation avec l'auteur",
        choices=[NO_CORRECTION, *COHABITING_CHOICES[1:]],
        required=False,
    )
    consent = forms.ChoiceField(
        label="Corriger le consentement exprès de la victime",
        choices=[NO_CORRECTION, ("oui", "Recueilli"), ("non", "Non recueilli")],
        required=False,
    )
    ban_expiry = forms.DateField(
        label="Corriger l'échéance de l'interdiction de contact",
        required=False,
        widget=DateInput,
        help_text="Laissez vide pour ne pas la modifier.",
    )
    retour = forms.ChoiceField(choices=[("lecture", "lecture"), ("seconde-lecture", "seconde-lecture")], required=False)

    def eligibility(self) -> dict:
        """The corrections asked, in the shape of the evaluation's eligibility (API shape)."""
        data, corrections = self.cleaned_data, {}
        if data.get("cohabiting"):
            corrections["cohabiting"] = COHABITING_VALUES[data["cohabiting"]]
        if data.get("consent"):
            corrections["consent"] = data["consent"] == "oui"
        if data.get("ban_expiry"):
            corrections["ban_expiry"] = data["ban_expiry"].isoformat()
        return corrections
