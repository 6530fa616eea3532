from rest_framework import serializers

from accounts.models import Organisation, User
from core.api import ErrorSerializer, StrictSerializerMixin  # noqa: F401 — ErrorSerializer re-exported


class TokenRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    email = serializers.EmailField()
    password = serializers.CharField(max_length=256, trim_whitespace=False)
    otp = serializers.CharField(
        max_length=32,
        required=False,
        allow_blank=True,
        help_text="Code à 6 chiffres de l'application, ou code de secours.",
    )


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class OrganisationSerializer(serializers.ModelSerializer):
    jurisdiction = serializers.CharField(source="jurisdiction.name")

    class Meta:
        model = Organisation
        fields = ["id", "name", "kind", "department", "jurisdiction"]


class MeSerializer(serializers.ModelSerializer):
    organisation = OrganisationSerializer(allow_null=True)

    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "role", "organisation"]


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "first_name", "last_name", "role"]
