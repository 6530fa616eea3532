"""The dashboard (`stats-dashboard`) and the census download (`stats-census`): thin, on stats.selectors.

The role is checked before the parameters (403 first); a bad parameter renders the page again with
French messages next to the fields (400).
"""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.models import Role
from core.web import service_errors
from stats import charts, selectors
from stats.exports import census_download
from stats.forms import CensusForm, PeriodForm


def _charts(summary: selectors.Summary) -> dict:
    def hbar(slug, title, rows):
        return charts.hbar_chart([(row.label, row.count) for row in rows], slug=slug, title=title)

    return {
        "months": charts.month_chart(
            summary.referrals_by_month, slug="mois", title="Signalements reçus par mois de transmission"
        ),
        "functions": hbar("fonctions", "Signalements reçus par fonction du référent", summary.referrals_by_function),
        "levels": charts.hbar_chart(
            [(row.label, row.final) for row in summary.evaluation_levels],
            slug="niveaux",
            title="Évaluations transmises par niveau de danger retenu",
        ),
        "outcomes": hbar("decisions", "Décisions du parquet par sens", summary.decisions_by_outcome),
        "devices": hbar("telephones", "Téléphones par état", summary.device_statuses),
        "alerts": hbar("alertes", "Alertes par type", summary.alerts_by_kind),
        "withdrawals": hbar("retraits", "Retraits du téléphone par motif", summary.withdrawals_by_reason),
        "deadlines": hbar("echeances", "Échéances dépassées par type", summary.overdue_deadlines),
    }


# The table of contents of the dashboard: (anchor, title), in the page's order.
SECTIONS = [
    ("essentiel", "L'essentiel"),
    ("signalements", "Signalements reçus"),
    ("evaluations", "Évaluations transmises au parquet"),
    ("decisions", "Décisions du parquet"),
    ("telephones", "Téléphones aujourd'hui"),
    ("alertes", "Alertes et interventions"),
    ("retraits", "Retraits du téléphone"),
    ("delais", "Délais médians"),
    ("echeances", "Échéances dépassées aujourd'hui"),
    ("recensement", "Recensement trimestriel"),
]


@require_GET
@login_required
@service_errors
def dashboard(request):
    """The figures of the user's scope over a period (by default the last twelve months)."""
    selectors.stats_check_access(request.user)
    default = selectors.default_period()
    form = PeriodForm({"from": default.start, "to": default.end, **request.GET.dict()})
    quarters = selectors.recent_quarters()
    chosen = request.GET.get("quarter", "")
    context = {
        "form": form,
        "choose_jurisdiction": request.user.role == Role.SUPERVISOR,
        "quarters": quarters,
        "census_quarter": chosen if chosen in dict(quarters) else quarters[0][0],
    }
    if not form.is_valid():
        return render(request, "stats/dashboard.html", context, status=400)
    scope = selectors.stats_scope(user=request.user, jurisdiction=form.cleaned_data["jurisdiction"])
    summary, computed_at = selectors.stats_summary_recent(scope=scope, period=form.cleaned_data["period"])
    context |= {
        "summary": summary,
        "computed_at": computed_at,
        "charts": _charts(summary),
        "jurisdiction": form.cleaned_data["jurisdiction"],
        "sections": SECTIONS,
    }
    return render(request, "stats/dashboard.html", context)


@require_GET
@login_required
@service_errors
def census(request):
    """Without parameters, the form; with them, the CSV or XLSX file."""
    selectors.stats_check_access(request.user)
    year, quarter = selectors.last_complete_quarter()
    form = CensusForm(request.GET or None, initial={"quarter": f"{year}T{quarter}"})
    if form.is_valid():
        scope = selectors.stats_scope(user=request.user, jurisdiction=form.cleaned_data["jurisdiction"])
        year, quarter = form.cleaned_data["quarter"]
        return census_download(
            user=request.user, scope=scope, year=year, quarter=quarter, file_format=form.cleaned_data["format"]
        )
    context = {"form": form, "choose_jurisdiction": request.user.role == Role.SUPERVISOR}
    return render(request, "stats/census.html", context, status=400 if form.is_bound else 200)
