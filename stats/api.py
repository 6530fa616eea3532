"""Thin DRF layer over stats.selectors: the dashboard's figures and the quarterly census.

The query parameters are read by the same forms as the web page (stats.forms); a bad one answers
400 `{field: [messages]}` in French, a refused role 403, a coordinator or prosecutor asking for
another jurisdiction 404 (see `stats_scope`).
"""

from dataclasses import asdict

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from stats import selectors
from stats.exports import CONTENT_TYPES, census_download
from stats.forms import CensusForm, PeriodForm

JURISDICTION = OpenApiParameter(
    "jurisdiction", OpenApiTypes.INT, description="Identifiant de la juridiction (comité de pilotage)."
)


class CanSeeStats(BasePermission):
    message = selectors.REFUSED

    def has_permission(self, request, view):
        return selectors.can_see_stats(request.user)


class FormatIsNotARenderer(DefaultContentNegotiation):
    """`?format=csv|xlsx` names the census file, not a DRF renderer: answer JSON whatever it says."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return super().select_renderer(request, renderers, format_suffix="json")


def _valid(form):
    if not form.is_valid():
        raise ValidationError(form.errors.as_data())
    return form.cleaned_data


class StatsSummaryView(APIView):
    permission_classes = [IsAuthenticated, CanSeeStats]

    @extend_schema(
        summary="Chiffres du tableau de bord",
        parameters=[
            JURISDICTION,
            OpenApiParameter("from", OpenApiTypes.DATE, description="Début (défaut : il y a 12 mois)."),
            OpenApiParameter("to", OpenApiTypes.DATE, description="Fin, incluse (défaut : aujourd'hui)."),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        data = _valid(PeriodForm(request.query_params))
        scope = selectors.stats_scope(user=request.user, jurisdiction=data["jurisdiction"])
        return Response(asdict(selectors.stats_summary(scope=scope, period=data["period"])))


class StatsCensusView(APIView):
    permission_classes = [IsAuthenticated, CanSeeStats]
    content_negotiation_class = FormatIsNotARenderer

    @extend_schema(
        summary="Recensement trimestriel par parquet (effectifs seulement)",
        parameters=[
            JURISDICTION,
            OpenApiParameter("quarter", str, description="Par exemple 2026Q3 (défaut : le dernier écoulé)."),
            OpenApiParameter("format", str, enum=["csv", "xlsx"], description="Format du fichier (par défaut : csv)."),
        ],
        responses={(200, content_type.split(";")[0]): OpenApiTypes.BINARY for content_type in CONTENT_TYPES.values()},
    )
    def get(self, request):
        data = _valid(CensusForm(request.query_params))
        scope = selectors.stats_scope(user=request.user, jurisdiction=data["jurisdiction"])
        year, quarter = data["quarter"]
        return census_download(user=request.user, scope=scope, year=year, quarter=quarter, file_format=data["format"])
