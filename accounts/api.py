"""Token issue, the current user, organisations and colleagues."""

import django_filters
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import Organisation, OrganisationKind, Role, User
from accounts.serializers import (
    MeSerializer,
    OrganisationSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UserSerializer,
)
from accounts.views import locked_out_message


class TokenView(APIView):
    """Exchange e-mail and password for a bearer token (5 failures lock the account: 429)."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer})
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        django_request = request._request
        try:
            raw, expires_at = services.token_issue(
                request=django_request,
                email=serializer.validated_data["email"],
                password=serializer.validated_data["password"],
            )
        except ValidationError:
            if getattr(django_request, "axes_locked_out", False):
                return Response({"detail": locked_out_message()}, status=status.HTTP_429_TOO_MANY_REQUESTS)
            raise
        return Response(TokenSerializer({"token": raw, "expires_at": expires_at}).data)


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
