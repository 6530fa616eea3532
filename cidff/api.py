"""Thin DRF layer over cidff.services and cidff.selectors."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from cidff import selectors, services
from cidff.models import Evaluation
from cidff.serializers import (
    AddendumReadSerializer,
    AddendumSerializer,
    CommentSerializer,
    EvaluationCreateSerializer,
    EvaluationListSerializer,
    EvaluationSerializer,
    EvaluationUpdateSerializer,
    InstrumentSerializer,
)
from core.api import FileNegotiation
from core.schema import BUSY, CONFLICT, NOT_FOUND_TARGET, blank_query, without


class InstrumentViewSet(viewsets.ReadOnlyModelViewSet):
    """Active instrument versions; `{code}` gives the active one, `{code}/?version=N` any loaded one."""

    serializer_class = InstrumentSerializer
    lookup_field = "code"
    lookup_value_converter = "slug"

    def get_queryset(self):
        return selectors.instrument_list_active()

    @extend_schema(parameters=[blank_query("version", OpenApiTypes.INT, "Une version chargée (défaut : l'active).")])
    @without(400)  # an unknown or malformed version is a 404, like an unknown code
    def retrieve(self, request, code=None):
        instrument = selectors.instrument_get(code=code, version=request.query_params.get("version"))
        return Response(InstrumentSerializer(instrument).data)


def pdf_response(filename: str, data: bytes) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


class EvaluationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = EvaluationListSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = Evaluation.objects.none()  # schema generation only; get_queryset decides

    def get_queryset(self):
        return selectors.evaluation_list_visible(user=self.request.user).order_by("-id")

    def _detail(self, evaluation, status_code=status.HTTP_200_OK):
        evaluation = selectors.evaluation_get_visible(user=self.request.user, evaluation_id=evaluation.pk)
        return Response(EvaluationSerializer(evaluation).data, status=status_code)

    @extend_schema(
        request=EvaluationCreateSerializer, responses={201: EvaluationSerializer, 404: NOT_FOUND_TARGET, 409: CONFLICT}
    )
    def create(self, request):
        serializer = EvaluationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        evaluation = services.evaluation_create(
            user=request.user,
            referral_id=serializer.validated_data["referral"],
            kind=serializer.validated_data["kind"],
        )
        return self._detail(evaluation, status.HTTP_201_CREATED)

    @extend_schema(responses=EvaluationSerializer)
    def retrieve(self, request, pk=None):
        return Response(EvaluationSerializer(services.evaluation_read(user=request.user, evaluation_id=pk)).data)

    @extend_schema(request=EvaluationUpdateSerializer, responses=EvaluationSerializer)
    def partial_update(self, request, pk=None):
        selectors.evaluation_require_visible(user=request.user, evaluation_id=pk)
        serializer = EvaluationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = services.evaluation_update(user=request.user, evaluation_id=pk, data=serializer.validated_data)
        return Response(EvaluationSerializer(saved).data)  # as saved, read under the lock: no third reading

    def _act(self, request, pk, service, body_serializer=None, **fields):
        selectors.evaluation_require_visible(user=request.user, evaluation_id=pk)
        kwargs = {}
        if body_serializer is not None:
            serializer = body_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            kwargs = {name: serializer.validated_data.get(name, "") for name in fields}
        result = service(user=request.user, evaluation_id=pk, **kwargs)
        return self._detail(result)

    @extend_schema(request=None, responses=EvaluationSerializer)
    @action(detail=True, methods=["post"])
    def finalize(self, request, pk=None):
        return self._act(request, pk, services.evaluation_finalize)

    @extend_schema(request=None, responses=EvaluationSerializer)
    @action(detail=True, methods=["post"])
    def validate(self, request, pk=None):
        return self._act(request, pk, services.evaluation_validate)

    @extend_schema(request=CommentSerializer, responses=EvaluationSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def send_back(self, request, pk=None):
        return self._act(request, pk, services.evaluation_return, CommentSerializer, comment=True)

    @extend_schema(request=None, responses=EvaluationSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        return self._act(request, pk, services.evaluation_send)

    @extend_schema(request=AddendumSerializer, responses={201: AddendumReadSerializer})
    @action(detail=True, methods=["post"])
    def addenda(self, request, pk=None):
        selectors.evaluation_require_visible(user=request.user, evaluation_id=pk)
        serializer = AddendumSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        addendum = services.evaluation_add_addendum(
            user=request.user,
            evaluation_id=pk,
            text=serializer.validated_data["text"],
            eligibility=serializer.validated_data.get("eligibility"),
        )
        return Response(AddendumReadSerializer(addendum).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): bytes, 409: BUSY})
    @action(detail=True, methods=["get"], content_negotiation_class=FileNegotiation)
    def report(self, request, pk=None):
        return pdf_response(*services.report_open(user=request.user, evaluation_id=pk))
