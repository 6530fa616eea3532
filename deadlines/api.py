from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets

from core.schema import blank_query
from deadlines import selectors
from deadlines.models import Deadline, DeadlineState


class DeadlineSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="referral.reference")
    kind_label = serializers.CharField(source="get_kind_display")
    state_label = serializers.CharField(source="get_state_display")

    class Meta:
        model = Deadline
        fields = [
            "id",
            "referral",
            "reference",
            "kind",
            "kind_label",
            "due_at",
            "reference_date",
            "state",
            "state_label",
            "raised_at",
            "closed_at",
        ]


@extend_schema(
    parameters=[blank_query("state", OpenApiTypes.STR, "Par défaut : à venir et dépassées.", enum=DeadlineState.values)]
)
class DeadlineViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Deadlines of the dossiers the user may see, soonest first."""

    serializer_class = DeadlineSerializer
    queryset = Deadline.objects.none()  # schema generation only; get_queryset decides

    def get_queryset(self):
        state = self.request.query_params.get("state") or None
        if state is not None and state not in DeadlineState.values:
            raise ValidationError({"state": ["État inconnu : open, overdue, met ou cancelled."]})
        return selectors.deadline_list_visible(user=self.request.user, state=state)
