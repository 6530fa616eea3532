"""The query parameters of the dashboard and of the census, read by the same forms for the page and the API."""

import datetime
import re

from django import forms
from django.utils import timezone

from accounts.models import Jurisdiction
from stats.selectors import Period, default_period, last_complete_quarter, quarter_period, recent_quarters

MAX_PERIOD_DAYS = 5 * 366
# The years a period or a quarter (QUARTER: 20xx) can be asked for: the dates Python can still compute around.
FIRST_DAY, LAST_DAY = datetime.date(2000, 1, 1), datetime.date(2099, 12, 31)
QUARTER = re.compile(r"^(20\d\d)\s*[QT]([1-4])$", re.IGNORECASE)
FORMATS = [("csv", "CSV (tableur, séparateur point-virgule)"), ("xlsx", "Excel (XLSX)")]


class JurisdictionForm(forms.Form):
    """Only a supervisor chooses: the scope refuses another jurisdiction to everybody else."""

    jurisdiction = forms.ModelChoiceField(
        label="Juridiction",
        queryset=Jurisdiction.objects.order_by("name"),
        required=False,
        empty_label="Toutes les juridictions",
        error_messages={"invalid_choice": "Juridiction inconnue."},
    )


class PeriodForm(JurisdictionForm):
    """`from` and `to` (dates, both optional): by default the last twelve months."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword: the two dates can only be declared here.
        for name, label in (("from", "Du"), ("to", "Au")):
            self.fields[name] = forms.DateField(
                label=label,
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                error_messages={"invalid": "Date invalide : écrivez-la sous la forme AAAA-MM-JJ."},
            )

    def clean(self):
        cleaned = super().clean()
        if "from" not in cleaned or "to" not in cleaned:
            return cleaned  # a date is already in error
        outside = [name for name in ("from", "to") if cleaned[name] and not FIRST_DAY <= cleaned[name] <= LAST_DAY]
        for name in outside:
            self.add_error(name, "Date hors des années couvertes par les statistiques : de 2000 à 2099.")
        if outside:
            return cleaned
        end = cleaned["to"] or timezone.localdate()
        start = cleaned["from"] or default_period(today=end).start
        if start > end:
            self.add_error("to", "La date de fin doit être postérieure ou égale à la date de début.")
        elif (end - start).days > MAX_PERIOD_DAYS:
            self.add_error("to", "La période ne peut pas dépasser cinq ans.")
        else:
            cleaned["period"] = Period(start=start, end=end)
        return cleaned


class CensusForm(JurisdictionForm):
    """`quarter` like 2026Q3 or 2026T3 (default: the last complete quarter), `format` csv or xlsx."""

    quarter = forms.CharField(
        label="Trimestre",
        required=False,
        max_length=7,
        help_text="Par exemple 2026T3 (troisième trimestre 2026). Par défaut : le dernier trimestre écoulé.",
    )
    format = forms.ChoiceField(
        label="Format",
        choices=FORMATS,
        required=False,
        error_messages={"invalid_choice": "Format inconnu : choisissez csv ou xlsx."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The page offers the last eight quarters in a list; the API (and an address typed by hand) may ask any
        # quarter already begun: the value is still read as text.
        field = self.fields["quarter"]
        field.widget = forms.Select(choices=recent_quarters())
        field.help_text = "Les huit derniers trimestres écoulés ; le plus récent est proposé par défaut."

    def clean_quarter(self) -> tuple[int, int]:
        value = self.cleaned_data["quarter"].strip()
        if not value:
            return last_complete_quarter()
        match = QUARTER.match(value)
        if match is None:
            raise forms.ValidationError("Trimestre invalide : écrivez l'année puis le trimestre, par exemple 2026T3.")
        year, quarter = int(match[1]), int(match[2])
        if quarter_period(year, quarter).start > timezone.localdate():
            raise forms.ValidationError("Ce trimestre n'a pas encore commencé.")
        return year, quarter

    def clean_format(self) -> str:
        return self.cleaned_data["format"] or "csv"
