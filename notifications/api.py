from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from core.schema import without
from notifications import selectors, services
from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    reference = serializers.CharField(source="referral.reference")

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_label", "referral", "reference", "created_at", "read_at"]


class ReadAllSerializer(serializers.Serializer):
    marked = serializers.IntegerField(help_text="Nombre de notifications marquées comme lues.")


class NotificationPreferenceSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    email = serializers.BooleanField()


class NotificationPreferencesUpdateSerializer(serializers.Serializer):
    emails = serializers.DictField(child=serializers.BooleanField(), help_text="{type: true|false}")


def _preferences(user) -> list[dict]:
    return [
        {"kind": kind, "label": label, "email": email}
        for kind, label, email in selectors.notification_preferences(user=user)
    ]


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in user's inbox."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # schema generation only; get_queryset decides

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @without(400, 409)  # marking one's own notice read reads no body and has no state to refuse
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        return Response(
            NotificationSerializer(services.notification_mark_read(user=request.user, notification_id=pk)).data
        )

    @extend_schema(request=None, responses=ReadAllSerializer)
    @without(400)  # reads no body: the user's own unread notifications, all of them
    @action(detail=False, methods=["post"], url_path="read-all", pagination_class=None)
    def read_all(self, request):
        """Mark every unread notification of the signed-in user read."""
        return Response({"marked": services.notification_mark_all_read(user=request.user)})

    @extend_schema(
        methods=["PUT"],
        request=NotificationPreferencesUpdateSerializer,
        responses=NotificationPreferenceSerializer(many=True),
    )
    @extend_schema(methods=["GET"], responses=NotificationPreferenceSerializer(many=True))
    @action(detail=False, methods=["get", "put"], pagination_class=None)
    def preferences(self, request):
        """Per kind: also receive the e-mail copy (the in-app notice always stays)."""
        if request.method == "PUT":
            emails = request.data.get("emails") if isinstance(request.data, dict) else None
            services.notification_preferences_set(user=request.user, emails=emails)
        return Response(_preferences(request.user))
