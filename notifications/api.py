from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from notifications import selectors, services
from notifications.models import Notification


class NotificationSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    reference = serializers.CharField(source="referral.reference")

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_label", "referral", "reference", "created_at", "read_at"]


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The signed-in user's inbox."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()  # schema generation only; get_queryset decides

    def get_queryset(self):
        return selectors.notification_list(user=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        return Response(
            NotificationSerializer(services.notification_mark_read(user=request.user, notification_id=pk)).data
        )
