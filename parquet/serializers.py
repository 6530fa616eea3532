"""API shapes of decisions, phones, attribution periods and alerts. The operator reads the beneficiary
sheet only; the referrer never reads any of this."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import StrictSerializerMixin
from parquet.models import (
    WITHDRAWAL_REASONS_CHOICES,
    Alert,
    AlertKind,
    Attribution,
    ContactChannel,
    Decision,
    Device,
    DeviceEvent,
    DeviceReturn,
    DeviceStatus,
    FollowUpContact,
    Outcome,
)
from parquet.selectors import retained_danger_level


class WallClockDateTimeField(serializers.DateTimeField):
    """A Paris time; one DRF cannot check (1 January of year 1: before UTC's own year 1) is refused in French."""

    def enforce_timezone(self, value):
        try:
            return super().enforce_timezone(value)
        except OverflowError:
            self.fail("overflow")


class DecisionCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    evaluation = serializers.IntegerField()
    outcome = serializers.ChoiceField(Outcome.choices)
    reasoning = serializers.CharField(max_length=10000, required=False, allow_blank=True)
    duration_months = serializers.IntegerField(required=False, allow_null=True)
    reserved_until = serializers.DateField(required=False, allow_null=True)


class DecisionSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="referral.reference")
    outcome_label = serializers.CharField(source="get_outcome_display")
    reasoning = serializers.CharField()
    documents = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "id",
            "referral",
            "reference",
            "evaluation",
            "outcome",
            "outcome_label",
            "reasoning",
            "duration_months",
            "reserved_until",
            "signed_by",
            "signed_at",
            "documents",
        ]

    def get_documents(self, decision) -> list[dict]:
        return [{"kind": d.kind, "status": d.status, "sha256": d.sha256} for d in decision.documents.all()]


class DeviceSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)

    class Meta:
        model = Device
        fields = ["id", "serial", "phone_number", "status", "status_label", "organisation", "organisation_name"]


class DeviceCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    serial = serializers.RegexField(r"^[A-Za-z0-9-]{6,40}$", error_messages={"invalid": "Numéro de série invalide."})
    phone_number = serializers.RegexField(r"^\+?[0-9 ]{6,20}$", error_messages={"invalid": "Numéro d'appel invalide."})
    organisation = serializers.IntegerField(required=False)


class DeviceUpdateSerializer(StrictSerializerMixin, serializers.Serializer):
    status = serializers.ChoiceField(DeviceStatus.choices, required=False)
    organisation = serializers.IntegerField(required=False)
    note = serializers.CharField(max_length=300, required=False, allow_blank=True)


class DeviceEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeviceEvent
        fields = ["created_at", "from_status", "to_status", "note"]


class DeviceDetailSerializer(DeviceSerializer):
    events = DeviceEventSerializer(many=True)

    class Meta(DeviceSerializer.Meta):
        fields = [*DeviceSerializer.Meta.fields, "events"]


class AttributionCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    decision = serializers.IntegerField()
    device = serializers.IntegerField()
    handover_date = serializers.DateField()
    consent = serializers.BooleanField()
    geolocation_consent = serializers.BooleanField()
    agreement = serializers.IntegerField(required=False, allow_null=True)


class AttributionSerializer(serializers.ModelSerializer):
    """The CIDFF's and the parquet's view of a period."""

    reference = serializers.CharField(source="referral.reference")
    device_serial = serializers.CharField(source="device.serial")
    device_phone_number = serializers.CharField(source="device.phone_number")
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = Attribution
        fields = [
            "id",
            "referral",
            "reference",
            "decision",
            "device",
            "device_serial",
            "device_phone_number",
            "handover_date",
            "start_date",
            "end_date",
            "consent",
            "geolocation_consent",
            "status",
            "status_label",
            "end_reason",
            "copil_opinion_date",
        ]


class DangerLevelSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()


class BeneficiarySheetSerializer(serializers.ModelSerializer):
    """The operator's view: who to protect, from whom, how to reach her — nothing of the evaluation."""

    reference = serializers.CharField(source="referral.reference")
    device_phone_number = serializers.CharField(source="device.phone_number")
    danger_level = serializers.SerializerMethodField(
        help_text="Le niveau de danger retenu par la dernière évaluation transmise (rien d'autre de l'évaluation)."
    )
    victim = serializers.SerializerMethodField()
    author = serializers.SerializerMethodField()
    children = serializers.SerializerMethodField()
    measures = serializers.SerializerMethodField()

    class Meta:
        model = Attribution
        fields = [
            "id",
            "reference",
            "device_phone_number",
            "start_date",
            "end_date",
            "geolocation_consent",
            "danger_level",
            "victim",
            "author",
            "children",
            "measures",
        ]

    @extend_schema_field(DangerLevelSerializer(allow_null=True))
    def get_danger_level(self, attribution):
        return retained_danger_level(referral=attribution.referral)

    def get_victim(self, attribution) -> dict:
        victim = attribution.referral.victim
        keys = (
            "last_name",
            "first_name",
            "birth_date",
            "phone",
            "address",
            "safe_contact",
            "safe_times",
            "language",
            "interpreter",
            "disability",
        )
        return {key: victim.get(key) for key in keys}

    def get_author(self, attribution) -> dict:
        referral = attribution.referral
        author = referral.author
        return {
            **{key: author.get(key) for key in ("last_name", "first_name", "birth_date", "description")},
            "relationship": referral.get_author_relationship_display(),
            "custody_status": referral.get_author_custody_status_display(),
        }

    def get_children(self, attribution) -> list:
        return attribution.referral.children

    def get_measures(self, attribution) -> list:
        return attribution.referral.measures


class AttributionWithdrawSerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.ChoiceField(WITHDRAWAL_REASONS_CHOICES)
    comment = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    copil_opinion_date = serializers.DateField(required=False, allow_null=True)


class ReturnSerializer(StrictSerializerMixin, serializers.Serializer):
    returned_on = serializers.DateField()
    condition = serializers.ChoiceField(DeviceReturn.CONDITIONS)
    notes = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class AlertCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    attribution = serializers.IntegerField()
    occurred_at = WallClockDateTimeField()
    kind = serializers.ChoiceField(AlertKind.choices)
    police_intervention = serializers.BooleanField(required=False, default=False)
    arrest = serializers.BooleanField(required=False, default=False)
    notes = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class AlertSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    reference = serializers.CharField(source="attribution.referral.reference")
    notes = serializers.CharField()

    class Meta:
        model = Alert
        fields = [
            "id",
            "attribution",
            "reference",
            "occurred_at",
            "kind",
            "kind_label",
            "police_intervention",
            "arrest",
            "notes",
        ]


class FollowUpCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    date = serializers.DateField()
    channel = serializers.ChoiceField(ContactChannel.choices)
    notes = serializers.CharField(max_length=5000)


class FollowUpSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.__str__")
    notes = serializers.CharField()

    class Meta:
        model = FollowUpContact
        fields = ["id", "date", "channel", "notes", "author"]
