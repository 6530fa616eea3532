"""Thin DRF layer over stats.selectors: the dashboard's figures and the quarterly census.

The query parameters are read by the same forms as the web page (stats.forms); a bad one answers
400 `{field: [messages]}` in French, a refused role 403, a coordinator or prosecutor asking for
another jurisdiction 404 (see `stats_scope`).
"""

from dataclasses import asdict

from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import ErrorSerializer, FileNegotiation
from core.schema import blank_query
from stats import selectors
from stats.exports import CONTENT_TYPES, census_download
from stats.forms import CensusForm, PeriodForm

OUT_OF_SCOPE = OpenApiResponse(
    ErrorSerializer, description="Juridiction inconnue, ou hors de votre périmètre (coordination, parquet)."
)
FORBIDDEN = OpenApiResponse(
    ErrorSerializer, description="Refusé à votre rôle : seuls le comité de pilotage, la coordination et le parquet."
)
JURISDICTION = blank_query(
    "jurisdiction",
    OpenApiTypes.INT,
    description="Identifiant de la juridiction (comité de pilotage).",
)


class CanSeeStats(BasePermission):
    message = selectors.REFUSED

    def has_permission(self, request, view):
        return selectors.can_see_stats(request.user)


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
            blank_query("from", OpenApiTypes.DATE, "Début (défaut : il y a 12 mois)."),
            blank_query("to", OpenApiTypes.DATE, "Fin, incluse (défaut : aujourd'hui)."),
        ],
        responses={200: OpenApiTypes.OBJECT, 403: FORBIDDEN, 404: OUT_OF_SCOPE},
    )
    def get(self, request):
        data = _valid(PeriodForm(request.query_params))
        scope = selectors.stats_scope(user=request.user, jurisdiction=data["jurisdiction"])
        return Response(asdict(selectors.stats_summary(scope=scope, period=data["period"])))


class StatsCensusView(APIView):
    permission_classes = [IsAuthenticated, CanSeeStats]
    content_negotiation_class = FileNegotiation  # `?format=csv|xlsx` names the file

    @extend_schema(
        summary="Recensement trimestriel par parquet (effectifs seulement)",
        parameters=[
            JURISDICTION,
            blank_query("quarter", str, "Par exemple 2026Q3 (défaut : le dernier écoulé)."),
            blank_query("format", str, "Format du fichier (par défaut : csv).", enum=["csv", "xlsx"]),
        ],
        responses={
            **{(200, content_type.split(";")[0]): OpenApiTypes.BINARY for content_type in CONTENT_TYPES.values()},
            403: FORBIDDEN,
            404: OUT_OF_SCOPE,
        },
    )
    def get(self, request):
        data = _valid(CensusForm(request.query_params))
        scope = selectors.stats_scope(user=request.user, jurisdiction=data["jurisdiction"])
        year, quarter = data["quarter"]
        return census_download(user=request.user, scope=scope, year=year, quarter=quarter, file_format=data["format"])
