"""API shapes of instruments and evaluations (input shape only; rules live in cidff.services)."""

from rest_framework import serializers

from cidff.eligibility import BAN_FRAMEWORKS, ExceptionGround, LegalBasis, VictimCategory
from cidff.models import Evaluation, EvaluationAddendum, EvaluationKind, Instrument, Recommendation
from cidff.selectors import evaluation_blocking, evaluation_eligibility, evaluation_score
from core.api import StrictSerializerMixin


class InstrumentSerializer(serializers.ModelSerializer):
    """The contract's shape: {code, version, title, sections:[{code, title, items:[…]}], thresholds}."""

    sections = serializers.SerializerMethodField()
    thresholds = serializers.SerializerMethodField()

    class Meta:
        model = Instrument
        fields = ["code", "version", "title", "sha256", "sections", "thresholds"]

    def get_sections(self, instrument) -> list:
        return instrument.definition["sections"]

    def get_thresholds(self, instrument) -> dict:
        definition = instrument.definition
        return {
            "levels": definition["levels"],
            "incomplete_when_unknown_over": definition["incomplete_when_unknown_over"],
        }


class EligibilitySerializer(StrictSerializerMixin, serializers.Serializer):
    victim_category = serializers.ChoiceField(VictimCategory.choices, required=False, allow_blank=True)
    cohabiting = serializers.BooleanField(required=False, allow_null=True)
    consent = serializers.BooleanField(required=False, allow_null=True)
    legal_basis = serializers.ChoiceField(LegalBasis.choices, required=False, allow_blank=True)
    ban_framework = serializers.ChoiceField(BAN_FRAMEWORKS, required=False, allow_blank=True)
    ban_authority = serializers.CharField(max_length=200, required=False, allow_blank=True)
    ban_date = serializers.DateField(required=False, allow_null=True)
    ban_expiry = serializers.DateField(required=False, allow_null=True)
    exception_ground = serializers.ChoiceField(ExceptionGround.choices, required=False, allow_blank=True)
    justification = serializers.CharField(max_length=5000, required=False, allow_blank=True)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        return {key: value.isoformat() if hasattr(value, "isoformat") else value for key, value in values.items()}


class InterviewSerializer(StrictSerializerMixin, serializers.Serializer):
    dates = serializers.ListField(child=serializers.DateField(), max_length=10, required=False)
    place = serializers.CharField(max_length=300, required=False, allow_blank=True)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        if "dates" in values:
            values["dates"] = [day.isoformat() for day in values["dates"]]
        return values


class EvaluationCreateSerializer(StrictSerializerMixin, serializers.Serializer):
    referral = serializers.IntegerField()
    kind = serializers.ChoiceField(EvaluationKind.choices, required=False, default=EvaluationKind.INITIAL)


class EvaluationUpdateSerializer(StrictSerializerMixin, serializers.Serializer):
    answers = serializers.DictField(child=serializers.JSONField(), required=False)
    eligibility = EligibilitySerializer(required=False)
    interview = InterviewSerializer(required=False)
    judgement = serializers.CharField(max_length=40, required=False, allow_blank=True)
    judgement_reason = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    narrative = serializers.CharField(max_length=20000, required=False, allow_blank=True)
    recommendation = serializers.ListField(
        child=serializers.ChoiceField(Recommendation.choices), max_length=len(Recommendation), required=False
    )


class CommentSerializer(StrictSerializerMixin, serializers.Serializer):
    comment = serializers.CharField(max_length=5000, required=False, allow_blank=True)


class AddendumSerializer(StrictSerializerMixin, serializers.Serializer):
    text = serializers.CharField(max_length=5000)
    eligibility = EligibilitySerializer(required=False)


class AddendumReadSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.__str__")
    eligibility = serializers.JSONField(help_text="Les corrections d'éligibilité portées par l'addendum.")

    class Meta:
        model = EvaluationAddendum
        fields = ["id", "author", "created_at", "text", "eligibility"]


class EvaluationListSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="referral.reference")
    status_label = serializers.CharField(source="get_status_display")

    class Meta:
        model = Evaluation
        fields = ["id", "referral", "reference", "kind", "status", "status_label", "final_level", "created_at"]


class EvaluationSerializer(EvaluationListSerializer):
    instrument = serializers.SerializerMethodField()
    evaluator = serializers.CharField(source="evaluator.__str__")
    validated_by = serializers.CharField(source="validated_by.__str__", allow_null=True, default=None)
    score = serializers.SerializerMethodField()
    eligibility_check = serializers.SerializerMethodField()
    blocking = serializers.SerializerMethodField()
    addenda = AddendumReadSerializer(many=True)
    interview = serializers.JSONField()
    answers = serializers.JSONField()
    eligibility = serializers.JSONField()

    class Meta(EvaluationListSerializer.Meta):
        fields = [
            *EvaluationListSerializer.Meta.fields,
            "instrument",
            "evaluator",
            "interview",
            "answers",
            "eligibility",
            "eligibility_check",
            "blocking",
            "judgement",
            "judgement_reason",
            "narrative",
            "recommendation",
            "returned_comment",
            "returned_at",
            "score",
            "computed_level",
            "incomplete",
            "finalized_at",
            "validated_by",
            "validated_at",
            "sent_at",
            "addenda",
        ]

    def get_instrument(self, evaluation) -> dict:
        return {"code": evaluation.instrument.code, "version": evaluation.instrument.version}

    def get_score(self, evaluation) -> dict:
        return evaluation_score(evaluation=evaluation).as_dict()

    def get_blocking(self, evaluation) -> list[str]:
        """What refuses the sending to the parquet now (and so the validation), in French; [] when nothing does."""
        if evaluation.status == "sent":
            return []
        return evaluation_blocking(evaluation=evaluation)

    def get_eligibility_check(self, evaluation) -> dict:
        blocks, warnings = evaluation_eligibility(evaluation=evaluation)
        return {"eligible": not blocks, "blocks": blocks, "warnings": warnings}
