"""Token issue, the current user, organisations and colleagues."""

import django_filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.authentication import BearerTokenAuthentication
from accounts.models import ApiToken, Organisation, OrganisationKind, Role, User
from accounts.serializers import (
    ErrorSerializer,
    MeSerializer,
    OrganisationSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UserSerializer,
)
from accounts.views import locked_out_message
from core.schema import invalid


class TokenView(APIView):
    """POST: e-mail, password and second-factor code for a bearer token (5 failures lock the account: 429).
    DELETE: revoke the token presented."""

    permission_classes = [AllowAny]

    def get_authenticators(self):
        # Issuing reads no credentials but the body's; revoking needs the token being revoked.
        if self.request is not None and self.request.method == "DELETE":
            return [BearerTokenAuthentication()]
        return []

    @extend_schema(
        request=TokenRequestSerializer,
        responses={
            200: TokenSerializer,
            400: invalid("Corps invalide (champs manquants ou mal formés)."),
            401: OpenApiResponse(ErrorSerializer, description="Identifiants ou code incorrects : rien n'est émis."),
            429: OpenApiResponse(ErrorSerializer, description="Compte verrouillé après trop d'échecs."),
        },
        auth=[],
    )
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        django_request = request._request
        try:
            raw, expires_at = services.token_issue(
                request=django_request,
                email=serializer.validated_data["email"],
                password=serializer.validated_data["password"],
                otp=serializer.validated_data.get("otp", ""),
            )
        except services.CredentialsRefused as refusal:
            if getattr(django_request, "axes_locked_out", False):
                return Response({"detail": locked_out_message()}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            return Response({"detail": str(refusal)}, status=status.HTTP_401_UNAUTHORIZED)
        return Response(TokenSerializer({"token": raw, "expires_at": expires_at}).data)

    @extend_schema(
        request=None,
        responses={
            204: OpenApiResponse(description="Jeton révoqué."),
            401: OpenApiResponse(ErrorSerializer, description="Jeton absent, invalide ou déjà révoqué."),
        },
    )
    def delete(self, request):
        if not isinstance(request.auth, ApiToken):
            raise NotAuthenticated("Présentez le jeton à révoquer : Authorization: Bearer <jeton>.")
        services.token_revoke(actor=request.user, token_id=request.auth.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)


class OrganisationFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=OrganisationKind.choices)

    class Meta:
        model = Organisation
        fields = ["kind"]


class OrganisationListView(generics.ListAPIView):
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter

    def get_queryset(self):
        return selectors.organisation_list().order_by("name")


class UserFilter(django_filters.FilterSet):
    role = django_filters.ChoiceFilter(choices=Role.choices)

    class Meta:
        model = User
        fields = ["role"]


class UserListView(generics.ListAPIView):
    serializer_class = UserSerializer
    filterset_class = UserFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return User.objects.none()
        return selectors.colleague_list(user=self.request.user).order_by("last_name", "first_name", "id")
