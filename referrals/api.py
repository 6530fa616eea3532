"""Thin DRF layer over referrals.services and referrals.selectors."""

import functools

import django_filters
from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError as BadRequest
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from audit.services import audit_record
from core.api import ErrorSerializer, FileNegotiation
from core.exceptions import PayloadTooLarge
from core.fields import encrypted_field_names
from core.files import ACCEPTED_MIME_TYPES, max_upload_label
from core.schema import BUSY, blank_query
from referrals import selectors, services
from referrals.models import Referral, Urgency
from referrals.queues import queue_codes
from referrals.serializers import (
    AssignSerializer,
    CaseEventReferrerSerializer,
    CaseEventSerializer,
    CloseSerializer,
    DocumentSerializer,
    DocumentUploadSerializer,
    DuplicateAnswerSerializer,
    ReferralCoordinationSerializer,
    ReferralDetailSerializer,
    ReferralDraftSerializer,
    ReferralListSerializer,
    ReferralParquetSerializer,
    ReferralReferrerSerializer,
    ReferralWriteSerializer,
    TransferSerializer,
    WithdrawSerializer,
    referral_serializer_class,
)
from referrals.workflow import Status

# Multipart overhead allowed on top of the file itself before the body is even parsed.
MULTIPART_SLACK_BYTES = 256 * 1024

# What a reader gets depends on who reads (`referral_serializer_class`): the schema says which shape for whom.
REFERRAL_VIEW = OpenApiResponse(
    PolymorphicProxySerializer(
        component_name="ReferralView",
        serializers=[
            ReferralParquetSerializer,
            ReferralCoordinationSerializer,
            ReferralDetailSerializer,
            ReferralDraftSerializer,
            ReferralReferrerSerializer,
        ],
        resource_type_field_name=None,
    ),
    description=(
        "Selon qui lit : le parquet reçoit `ReferralParquet` (avec `possible_duplicates` et `same_author_count`), "
        "la coordination du CIDFF `ReferralCoordination` (avec `possible_duplicates`), l'évaluatrice "
        "`ReferralDetail` ; le référent reçoit son brouillon en entier (`ReferralDraft`), puis, une fois le "
        "dossier transmis, son état seulement (`ReferralReferrer`)."
    ),
)
AUTHOR_VIEW = OpenApiResponse(
    ReferralReferrerSerializer, description="Le dossier transmis, tel que le référent le voit désormais : son état."
)
DRAFT_VIEW = OpenApiResponse(ReferralDraftSerializer, description="Le brouillon, en entier, pour son auteur.")
COORDINATION_VIEW = OpenApiResponse(
    PolymorphicProxySerializer(
        component_name="ReferralCoordinationView",
        serializers=[ReferralCoordinationSerializer, ReferralDetailSerializer],
        resource_type_field_name=None,
    ),
    description=(
        "Le dossier, vu par la coordination (`ReferralCoordination`) ; après un transfert, qui lui retire le "
        "dossier, sans les doublons possibles (`ReferralDetail`)."
    ),
)
EVENTS_VIEW = OpenApiResponse(
    PolymorphicProxySerializer(
        component_name="CaseEventView",
        serializers=[CaseEventSerializer, CaseEventReferrerSerializer],
        resource_type_field_name=None,
        many=True,
    ),
    description=(
        "Le référent auteur suit les étapes (`CaseEventReferrer` : ni l'auteur des étapes, ni les commentaires) ; "
        "les autres lecteurs reçoivent `CaseEvent`."
    ),
)


class ReferralFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Status.choices)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)

    class Meta:
        model = Referral
        fields = ["status", "urgency"]


class ReferralViewSet(
    mixins.ListModelMixin,
    viewsets.GenericViewSet,
):
    """Dossiers the user may see. POST creates a draft; PATCH edits a draft (its author only)."""

    serializer_class = ReferralListSerializer
    filterset_class = ReferralFilter
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    narrowed = True  # until filter_queryset has seen that nothing but the permission filter applies

    def get_queryset(self):
        visible = selectors.referral_list_visible(user=self.request.user).order_by("-id")
        return visible.defer(*encrypted_field_names(Referral)) if self.action == "list" else visible

    def filter_queryset(self, queryset):
        """`?q=`: any text is accepted; one that is neither a phone nor "NOM Prénom JJ/MM/AAAA" finds nothing."""
        conditions = len(queryset.query.where.children)
        queryset = super().filter_queryset(queryset)
        code = self.request.query_params.get("queue", "") if self.action == "list" else ""
        if code:
            if code not in queue_codes():
                raise BadRequest({"queue": ["File de travail inconnue."]})
            match = selectors.referral_queue_q(user=self.request.user, code=code)
            queryset = queryset.none() if match is None else queryset.filter(match)  # another role's queue: empty
        text = self.request.query_params.get("q", "").strip() if self.action == "list" else ""
        if text:
            match = selectors.referral_search_q(text)
            queryset = queryset.none() if match is None else queryset.filter(match)
        self.narrowed = len(queryset.query.where.children) != conditions  # a filter, a queue, a search, none()
        return queryset

    def list_count(self, queryset) -> int | None:
        """All the visible dossiers (nothing narrowed them): counted on the grant tables, without the dossiers."""
        if self.action != "list" or self.narrowed:
            return None
        return selectors.referral_count_visible(user=self.request.user)

    def list_page_ids(self, queryset):
        """All the visible dossiers, newest first (nothing narrowed or re-sorted them): each page's ids read from
        the grant tables, newest first, instead of sorting every visible dossier."""
        if self.action != "list" or self.narrowed or queryset.query.order_by != ("-id",):
            return None
        return functools.partial(selectors.referral_newest_visible_ids, user=self.request.user)

    @extend_schema(
        parameters=[
            blank_query(
                "q",
                str,
                "Recherche exacte, sans rien déchiffrer : un numéro de téléphone de la victime, ou « NOM Prénom "
                "JJ/MM/AAAA » de la victime ou de l'auteur. Un texte d'une autre forme ne trouve rien.",
            ),
            blank_query(
                "queue",
                str,
                "File de travail de votre rôle, comme sur la liste des dossiers du site (`a-accuser`, "
                "`a-attribuer`, `seconde-lecture`, `a-transmettre`, `en-evaluation`, `au-parquet`, `mesure`, "
                "`echeances`, `clotures` pour la coordination ; `a-evaluer`, `en-cours`, `renvoyees` pour "
                "l'évaluatrice ; `brouillons`, `transmis`, `clotures` pour le référent ; `a-decider`, "
                "`reserve`, `mesures`, `echeances`, `clotures` pour le parquet ; `tous`). La file d'un autre "
                "rôle est vide pour vous.",
                enum=queue_codes(),
            ),
        ]
    )
    def list(self, request, *args, **kwargs):
        audit_record(actor=request.user, action="referral.list")
        return super().list(request, *args, **kwargs)

    def _detail(self, referral, status_code=status.HTTP_200_OK):
        serializer_class = referral_serializer_class(user=self.request.user, referral=referral)
        return Response(serializer_class(referral, context={"request": self.request}).data, status=status_code)

    @extend_schema(request=ReferralWriteSerializer, responses={201: DRAFT_VIEW})
    def create(self, request):
        serializer = ReferralWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        referral = services.referral_create(user=request.user, data=serializer.validated_data)
        return self._detail(referral, status.HTTP_201_CREATED)

    @extend_schema(responses={200: REFERRAL_VIEW})
    def retrieve(self, request, pk=None):
        return self._detail(services.referral_read(user=request.user, referral_id=pk))

    @extend_schema(request=ReferralWriteSerializer, responses={200: DRAFT_VIEW})
    def partial_update(self, request, pk=None):
        selectors.referral_get_visible(user=request.user, referral_id=pk)  # 404 before any validation
        serializer = ReferralWriteSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        referral = services.referral_update(user=request.user, referral_id=pk, data=serializer.validated_data)
        return self._detail(referral)

    @extend_schema(responses={204: None})
    def destroy(self, request, pk=None):
        services.referral_delete_draft(user=request.user, referral_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _transition(self, request, pk, service, body_serializer=None):
        """404 first, then the body's shape (400), then the service (403, 409, 400)."""
        kwargs = {}
        if body_serializer is not None:
            selectors.referral_get_visible(user=request.user, referral_id=pk)
            serializer = body_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            kwargs = serializer.validated_data
        referral = service(user=request.user, referral_id=pk, **kwargs)
        return self._detail(referral)

    @extend_schema(request=None, responses={200: AUTHOR_VIEW})
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._transition(request, pk, services.referral_submit)

    @extend_schema(request=None, responses={200: COORDINATION_VIEW})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        return self._transition(request, pk, services.referral_acknowledge)

    @extend_schema(request=AssignSerializer, responses={200: COORDINATION_VIEW})
    @action(detail=True, methods=["post"])
    def assign(self, request, pk=None):
        return self._transition(request, pk, services.referral_assign, AssignSerializer)

    @extend_schema(request=TransferSerializer, responses={200: COORDINATION_VIEW})
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        return self._transition(request, pk, services.referral_transfer, TransferSerializer)

    @extend_schema(request=WithdrawSerializer, responses={200: AUTHOR_VIEW})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._transition(request, pk, services.referral_withdraw, WithdrawSerializer)

    @extend_schema(request=CloseSerializer, responses={200: COORDINATION_VIEW})
    @action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        return self._transition(request, pk, services.referral_close, CloseSerializer)

    @extend_schema(request=DuplicateAnswerSerializer, responses={200: COORDINATION_VIEW})
    @action(detail=True, methods=["post"], url_path="duplicates")
    def duplicates(self, request, pk=None):
        """The coordination links the other dossier to this one as the same woman, or dismisses the match."""
        return self._transition(request, pk, self._answer_duplicate, DuplicateAnswerSerializer)

    @staticmethod
    def _answer_duplicate(*, user, referral_id, other, verdict):
        services.duplicate_answer(user=user, referral_id=referral_id, other_id=other, verdict=verdict)
        return selectors.referral_get_visible(user=user, referral_id=referral_id)

    @extend_schema(responses={200: EVENTS_VIEW})
    @action(detail=True, methods=["get"], filter_backends=[])
    def events(self, request, pk=None):
        referral = services.referral_read(user=request.user, referral_id=pk)
        serializer_class = (
            CaseEventReferrerSerializer if referral.referrer_id == request.user.pk else CaseEventSerializer
        )
        events = selectors.referral_events(referral=referral)
        page = self.paginate_queryset(events)
        return self.get_paginated_response(serializer_class(page, many=True).data)

    @extend_schema(
        methods=["GET"],
        responses={
            200: DocumentSerializer(many=True),
            403: OpenApiResponse(
                ErrorSerializer, description="Le référent ne consulte plus les pièces d'un signalement transmis."
            ),
        },
    )
    @extend_schema(methods=["POST"], request=DocumentUploadSerializer, responses={201: DocumentSerializer})
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser], filter_backends=[])
    def documents(self, request, pk=None):
        if request.method == "GET":
            referral = services.referral_read(user=request.user, referral_id=pk)
            page = self.paginate_queryset(selectors.document_list(user=request.user, referral=referral))
            return self.get_paginated_response(DocumentSerializer(page, many=True).data)
        selectors.referral_get_visible(user=request.user, referral_id=pk)
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.VIGIE_MAX_UPLOAD_BYTES + MULTIPART_SLACK_BYTES:
            raise PayloadTooLarge(f"Fichier trop volumineux : {max_upload_label()} au maximum.")
        serializer = DocumentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = services.document_upload(
            user=request.user,
            referral_id=pk,
            upload=serializer.validated_data["file"],
            kind=serializer.validated_data["kind"],
            description=serializer.validated_data.get("description", ""),
        )
        return Response(DocumentSerializer(document).data, status=status.HTTP_201_CREATED)


def document_response(document, data: bytes) -> HttpResponse:
    """The decrypted file as an attachment named after the dossier, never after its content."""
    extension = document.content_type.split("/")[-1].replace("mpeg", "mp3")
    response = HttpResponse(data, content_type=document.content_type)
    response["Content-Disposition"] = (
        f'attachment; filename="{document.referral.reference}-piece-{document.pk}.{extension}"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


class DocumentViewSet(viewsets.GenericViewSet):
    serializer_class = DocumentSerializer

    def get_queryset(self):
        return Referral.objects.none()

    @extend_schema(
        responses={**{(200, media): OpenApiTypes.BINARY for media in sorted(ACCEPTED_MIME_TYPES)}, 409: BUSY}
    )
    @action(detail=True, methods=["get"], content_negotiation_class=FileNegotiation)
    def download(self, request, pk=None):
        document, data = services.document_download(user=request.user, document_id=pk)
        return document_response(document, data)
