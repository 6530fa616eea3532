"""Thin DRF layer over parquet.services and parquet.selectors."""

from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from audit.services import audit_record
from cidff.api import pdf_response
from core.api import FileNegotiation
from core.schema import BUSY, CONFLICT, NOT_FOUND_TARGET
from parquet import selectors, services
from parquet.models import Alert, Attribution, Decision, DecisionDocumentKind, Device
from parquet.policies import attribution_policy
from parquet.serializers import (
    AlertCreateSerializer,
    AlertSerializer,
    AttributionCreateSerializer,
    AttributionSerializer,
    AttributionWithdrawSerializer,
    BeneficiarySheetSerializer,
    DecisionCreateSerializer,
    DecisionSerializer,
    DeviceCreateSerializer,
    DeviceDetailSerializer,
    DeviceSerializer,
    DeviceUpdateSerializer,
    ReturnSerializer,
)


def _attribution_view(many: bool) -> OpenApiResponse:
    return OpenApiResponse(
        PolymorphicProxySerializer(
            component_name="AttributionView",
            serializers=[AttributionSerializer, BeneficiarySheetSerializer],
            resource_type_field_name=None,
            many=many,
        ),
        description=(
            "Selon qui lit : la coordination du CIDFF et le parquet reçoivent `Attribution` ; l'opérateur de "
            "téléassistance reçoit la fiche bénéficiaire (`BeneficiarySheet`), rien de l'évaluation."
        ),
    )


def _validated(serializer_class, data) -> dict:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class DecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = DecisionSerializer
    queryset = Decision.objects.none()  # schema generation only

    def get_queryset(self):
        return selectors.decision_list_visible(user=self.request.user).prefetch_related("documents").order_by("-id")

    @extend_schema(
        request=DecisionCreateSerializer, responses={201: DecisionSerializer, 404: NOT_FOUND_TARGET, 409: CONFLICT}
    )
    def create(self, request):
        data = _validated(DecisionCreateSerializer, request.data)
        decision = services.decision_create(user=request.user, evaluation_id=data.pop("evaluation"), **data)
        return Response(DecisionSerializer(decision).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/pdf"): bytes, 409: BUSY})
    @action(detail=True, methods=["get"], content_negotiation_class=FileNegotiation)
    def document(self, request, pk=None):
        decision = selectors.decision_get_visible(user=request.user, decision_id=pk)
        data = services.decision_document_open(user=request.user, decision=decision, kind=DecisionDocumentKind.DECISION)
        return pdf_response(f"{decision.referral.reference}-decision-{decision.pk}.pdf", data)


class DeviceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    serializer_class = DeviceSerializer
    queryset = Device.objects.none()  # schema generation only
    http_method_names = ["get", "post", "patch", "head", "options"]
    filterset_fields = ["status"]

    def get_queryset(self):
        return selectors.device_list_visible(user=self.request.user).order_by("serial")

    @extend_schema(responses=DeviceDetailSerializer)
    def retrieve(self, request, pk=None):
        device = selectors.device_get_visible(user=request.user, device_id=pk)
        return Response(DeviceDetailSerializer(device).data)

    @extend_schema(request=DeviceCreateSerializer, responses=DeviceSerializer)
    def create(self, request):
        data = _validated(DeviceCreateSerializer, request.data)
        device = services.device_create(
            user=request.user,
            serial=data["serial"],
            phone_number=data["phone_number"],
            organisation_id=data.get("organisation"),
        )
        return Response(DeviceSerializer(device).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=DeviceUpdateSerializer, responses=DeviceSerializer)
    def partial_update(self, request, pk=None):
        selectors.device_get_visible(user=request.user, device_id=pk)
        data = _validated(DeviceUpdateSerializer, request.data)
        device = services.device_update(
            user=request.user,
            device_id=pk,
            status=data.get("status"),
            note=data.get("note", ""),
            organisation_id=data.get("organisation"),
        )
        return Response(DeviceSerializer(device).data)


@extend_schema_view(
    list=extend_schema(responses={200: _attribution_view(many=True)}),
    retrieve=extend_schema(responses={200: _attribution_view(many=False)}),
)
class AttributionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """CIDFF and parquet read the periods of their dossiers; the operator reads beneficiary sheets."""

    queryset = Attribution.objects.none()  # schema generation only

    def get_serializer_class(self):
        if attribution_policy.is_operator(self.request.user):
            return BeneficiarySheetSerializer
        return AttributionSerializer

    def get_queryset(self):
        attributions = selectors.attribution_list_visible(user=self.request.user).order_by("-id")
        if attribution_policy.is_operator(self.request.user):
            attributions = attributions.prefetch_related(selectors.sent_evaluations_prefetch())
        return attributions

    def retrieve(self, request, pk=None):
        attribution = selectors.attribution_get_visible(user=request.user, attribution_id=pk)
        audit_record(actor=request.user, action="attribution.view", obj=attribution)
        return Response(self.get_serializer_class()(attribution).data)

    @extend_schema(responses={(200, "application/pdf"): bytes, 409: BUSY})
    @action(detail=True, methods=["get"], content_negotiation_class=FileNegotiation)
    def sheet(self, request, pk=None):
        """The fiche bénéficiaire of this period (operator, CIDFF, parquet)."""
        attribution = selectors.attribution_get_visible(user=request.user, attribution_id=pk)
        data = services.decision_document_open(
            user=request.user, decision=attribution.decision, kind=DecisionDocumentKind.BENEFICIARY_SHEET
        )
        return pdf_response(f"{attribution.referral.reference}-fiche-beneficiaire.pdf", data)

    @extend_schema(
        request=AttributionCreateSerializer,
        responses={201: AttributionSerializer, 404: NOT_FOUND_TARGET, 409: CONFLICT},
    )
    def create(self, request):
        data = _validated(AttributionCreateSerializer, request.data)
        attribution = services.attribution_handover(
            user=request.user,
            decision_id=data["decision"],
            device_id=data["device"],
            handover_date=data["handover_date"],
            consent=data["consent"],
            geolocation_consent=data["geolocation_consent"],
            agreement_id=data.get("agreement"),
        )
        return Response(AttributionSerializer(attribution).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AttributionWithdrawSerializer, responses=AttributionSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        selectors.attribution_get_visible(user=request.user, attribution_id=pk)
        data = _validated(AttributionWithdrawSerializer, request.data)
        attribution = services.attribution_withdraw(user=request.user, attribution_id=pk, **data)
        return Response(AttributionSerializer(attribution).data)

    @extend_schema(request=ReturnSerializer, responses=AttributionSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_device(self, request, pk=None):
        selectors.attribution_get_visible(user=request.user, attribution_id=pk)
        data = _validated(ReturnSerializer, request.data)
        services.attribution_return(user=request.user, attribution_id=pk, **data)
        attribution = selectors.attribution_get_visible(user=request.user, attribution_id=pk)
        return Response(AttributionSerializer(attribution).data)


class AlertViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = AlertSerializer
    queryset = Alert.objects.none()  # schema generation only

    def get_queryset(self):
        return selectors.alert_list_visible(user=self.request.user).order_by("-occurred_at", "-id")

    @extend_schema(
        request=AlertCreateSerializer, responses={201: AlertSerializer, 404: NOT_FOUND_TARGET, 409: CONFLICT}
    )
    def create(self, request):
        data = _validated(AlertCreateSerializer, request.data)
        alert = services.alert_create(user=request.user, attribution_id=data.pop("attribution"), **data)
        return Response(AlertSerializer(alert).data, status=status.HTTP_201_CREATED)
