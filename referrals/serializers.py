"""API shapes of a dossier. Input is validated here (shape); rules live in the services.

Which serializer a reader gets depends on who reads: the referrer sees her own draft in full but,
once it has left her, only its status and acknowledgement; the CIDFF (and later the parquet)
see the content.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Organisation, OrganisationKind
from core.api import StrictSerializerMixin
from referrals.models import (
    CaseEvent,
    ChildResidence,
    CustodyStatus,
    DocumentKind,
    DuplicateVerdict,
    MeasureType,
    Referral,
    ReferralDocument,
    ReferrerFunction,
    Relationship,
    Urgency,
)
from referrals.policies import referral_policy
from referrals.selectors import (
    referral_actions,
    referral_outcome_notice,
    referral_possible_duplicates,
    referral_same_author_count,
    referral_warnings,
)
from referrals.workflow import COORDINATOR_CLOSURE_REASONS, ClosureReason

AUTOMATIC_ACTOR = "Vigie (étape automatique)"


def _text(max_length: int, **kwargs):
    return serializers.CharField(max_length=max_length, required=False, allow_blank=True, **kwargs)


def _date(**kwargs):
    return serializers.DateField(required=False, allow_null=True, **kwargs)


class VictimSerializer(StrictSerializerMixin, serializers.Serializer):
    last_name = _text(80)
    first_name = _text(80)
    birth_date = _date()
    phone = _text(30)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=120)
    address = _text(300)
    safe_contact = _text(500, help_text="Moyen de contact sûr (numéro, personne relais…).")
    safe_times = _text(200, help_text="Moments où la victime peut être jointe sans danger.")
    language = _text(60)
    interpreter = serializers.BooleanField(required=False)
    disability = _text(200)


class AuthorSerializer(StrictSerializerMixin, serializers.Serializer):
    last_name = _text(80)
    first_name = _text(80)
    birth_date = _date()
    description = _text(500, help_text="Signalement physique, véhicule…")
    relationship = serializers.ChoiceField(Relationship.choices, required=False, allow_blank=True)
    custody_status = serializers.ChoiceField(CustodyStatus.choices, required=False, allow_blank=True)
    release_date = _date()


class ChildSerializer(StrictSerializerMixin, serializers.Serializer):
    first_name = _text(80)
    birth_date = _date()
    common_child = serializers.BooleanField(required=False, default=True)
    residence = serializers.ChoiceField(ChildResidence.choices, required=False, allow_blank=True)


class ComplaintSerializer(StrictSerializerMixin, serializers.Serializer):
    date = _date()
    service = _text(200)


class MeasureSerializer(StrictSerializerMixin, serializers.Serializer):
    type = serializers.ChoiceField(MeasureType.choices)
    authority = _text(200)
    date = _date()
    no_contact_ban = serializers.BooleanField(required=False, default=False)
    expiry = _date()

    def validate(self, attrs):
        if attrs.get("date") and attrs.get("expiry") and attrs["expiry"] < attrs["date"]:
            raise serializers.ValidationError({"expiry": "L'échéance précède la date de la mesure."})
        return attrs


class ReferralWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    cidff = serializers.PrimaryKeyRelatedField(
        queryset=Organisation.objects.filter(kind=OrganisationKind.CIDFF, is_active=True),
        error_messages={"does_not_exist": "Ce CIDFF n'existe pas ou n'est plus actif."},
    )
    urgency = serializers.ChoiceField(Urgency.choices, required=False)
    referrer_function = serializers.ChoiceField(ReferrerFunction.choices)
    victim = VictimSerializer(required=False)
    author = AuthorSerializer(required=False)
    children = ChildSerializer(many=True, required=False, max_length=20)
    cohabiting = serializers.BooleanField(required=False, allow_null=True)
    separation_date = _date()
    facts = _text(20000)
    complaints = ComplaintSerializer(many=True, required=False, max_length=50)
    measures = MeasureSerializer(many=True, required=False, max_length=50)
    victim_informed = serializers.BooleanField(required=False)


class OrganisationRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "name"]


class ReferralListSerializer(serializers.ModelSerializer):
    """One row of a list: no personal data, whoever reads it."""

    status_label = serializers.CharField(source="get_status_display")
    urgency_label = serializers.CharField(source="get_urgency_display")
    cidff = OrganisationRefSerializer()

    class Meta:
        model = Referral
        fields = [
            "id",
            "reference",
            "status",
            "status_label",
            "urgency",
            "urgency_label",
            "cidff",
            "created_at",
            "submitted_at",
            "acknowledged_at",
        ]


class ReferralReferrerSerializer(ReferralListSerializer):
    """The referrer's view once the dossier has left her: status, acknowledgement and outcome notice."""

    closure_reason_label = serializers.CharField(source="get_closure_reason_display")
    outcome_notice = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField(
        help_text="Codes des transitions que l'utilisateur peut faire maintenant (ceux des boutons de la page)."
    )

    class Meta(ReferralListSerializer.Meta):
        fields = [
            *ReferralListSerializer.Meta.fields,
            "closed_at",
            "closure_reason",
            "closure_reason_label",
            "anonymised_at",
            "outcome_notice",
            "actions",
        ]

    def get_outcome_notice(self, referral) -> str:
        return referral_outcome_notice(referral=referral)

    def get_actions(self, referral) -> list[str]:
        return referral_actions(user=self.context["request"].user, referral=referral)


class ReferralContentMixin(serializers.Serializer):
    """The content of the dossier, read back from the encrypted fields."""

    referrer_function = serializers.CharField()
    victim = serializers.JSONField()
    author = serializers.SerializerMethodField()
    children = serializers.JSONField()
    cohabiting = serializers.BooleanField(allow_null=True)
    separation_date = serializers.DateField(allow_null=True)
    facts = serializers.CharField()
    complaints = serializers.JSONField()
    measures = serializers.JSONField()
    victim_informed = serializers.BooleanField()

    def get_author(self, referral) -> dict:
        return {
            **referral.author,
            "relationship": referral.author_relationship,
            "custody_status": referral.author_custody_status,
            "release_date": referral.author_release_date.isoformat() if referral.author_release_date else None,
        }


class ReferralDraftSerializer(ReferralContentMixin, ReferralReferrerSerializer):
    """The referrer's own draft, in full, so she can finish it."""

    class Meta(ReferralReferrerSerializer.Meta):
        fields = [*ReferralReferrerSerializer.Meta.fields, *ReferralContentMixin._declared_fields]


class ReferralDetailSerializer(ReferralContentMixin, ReferralReferrerSerializer):
    """The CIDFF's view: content, referrer, evaluator, warnings."""

    referrer_organisation = OrganisationRefSerializer()
    referrer_name = serializers.CharField(source="referrer.get_full_name")
    evaluator = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()

    class Meta(ReferralReferrerSerializer.Meta):
        fields = [
            *ReferralReferrerSerializer.Meta.fields,
            *ReferralContentMixin._declared_fields,
            "referrer_organisation",
            "referrer_name",
            "evaluator",
            "warnings",
        ]

    def get_evaluator(self, referral) -> dict | None:
        if referral.evaluator is None:
            return None
        return {"id": referral.evaluator_id, "name": str(referral.evaluator)}

    def get_warnings(self, referral) -> list[str]:
        return referral_warnings(referral=referral)


class PossibleDuplicateSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="Vide si vous ne pouvez pas voir ce dossier.")
    reference = serializers.CharField(allow_null=True, help_text="Vide si vous ne pouvez pas voir ce dossier.")
    organisation = serializers.CharField(help_text="Le CIDFF qui détient ce dossier : celui à contacter.")


class ReferralCoordinationSerializer(ReferralDetailSerializer):
    """The view of the CIDFF coordination holding the dossier: plus the other dossiers of the same woman."""

    possible_duplicates = serializers.SerializerMethodField(
        help_text=(
            "Autres dossiers qui portent la même identité (nom, prénom, date de naissance) ou le même téléphone de "
            "la victime, sauf ceux que la coordination a écartés. Jamais leur contenu ; `id` et `reference` sont "
            "vides pour un dossier que vous ne pouvez pas voir : contactez l'organisation indiquée."
        )
    )

    class Meta(ReferralDetailSerializer.Meta):
        fields = [*ReferralDetailSerializer.Meta.fields, "possible_duplicates"]

    @extend_schema_field(PossibleDuplicateSerializer(many=True))
    def get_possible_duplicates(self, referral) -> list[dict]:
        matches = referral_possible_duplicates(user=self.context["request"].user, referral=referral)
        return PossibleDuplicateSerializer(matches, many=True).data


class ReferralParquetSerializer(ReferralCoordinationSerializer):
    """The parquet's view: plus how many other dossiers of the jurisdiction name the same author."""

    same_author_count = serializers.SerializerMethodField(
        help_text="Nombre d'autres dossiers de la juridiction qui désignent le même auteur (nom, prénom, naissance)."
    )

    class Meta(ReferralCoordinationSerializer.Meta):
        fields = [*ReferralCoordinationSerializer.Meta.fields, "same_author_count"]

    def get_same_author_count(self, referral) -> int:
        return referral_same_author_count(user=self.context["request"].user, referral=referral) or 0


def referral_serializer_class(*, user, referral) -> type[serializers.Serializer]:
    if referral.referrer_id != user.pk:
        if referral_policy.user_has_permission_for_instance(user, "decide", referral):
            return ReferralParquetSerializer
        if referral_policy.user_has_permission_for_instance(user, "coordinate", referral):
            return ReferralCoordinationSerializer
        return ReferralDetailSerializer
    return ReferralDraftSerializer if referral_policy.may_read_content(user, referral) else ReferralReferrerSerializer


class CaseEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    from_status_label = serializers.CharField(source="get_from_status_display")
    to_status_label = serializers.CharField(source="get_to_status_display")

    class Meta:
        model = CaseEvent
        fields = [
            "id",
            "created_at",
            "action",
            "from_status",
            "from_status_label",
            "to_status",
            "to_status_label",
            "actor",
            "comment",
        ]

    def get_actor(self, event) -> str:
        return str(event.actor) if event.actor_id else AUTOMATIC_ACTOR


class CaseEventReferrerSerializer(CaseEventSerializer):
    """Referrers follow the steps, not who did them nor the CIDFF's comments."""

    class Meta(CaseEventSerializer.Meta):
        fields = ["id", "created_at", "action", "to_status", "to_status_label"]


class AssignSerializer(StrictSerializerMixin, serializers.Serializer):
    evaluator = serializers.IntegerField(source="evaluator_id")


class TransferSerializer(StrictSerializerMixin, serializers.Serializer):
    cidff = serializers.IntegerField(source="cidff_id")
    reason = serializers.CharField(max_length=1000)


class WithdrawSerializer(StrictSerializerMixin, serializers.Serializer):
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class CloseSerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.ChoiceField([(r.value, r.label) for r in ClosureReason if r in COORDINATOR_CLOSURE_REASONS])
    comment = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class DocumentSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = ReferralDocument
        fields = ["id", "kind", "kind_label", "description", "content_type", "size", "sha256", "created_at"]


class DocumentUploadSerializer(StrictSerializerMixin, serializers.Serializer):
    file = serializers.FileField(allow_empty_file=False)
    kind = serializers.ChoiceField(DocumentKind.choices, required=False, default=DocumentKind.EVIDENCE)
    description = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class DuplicateAnswerSerializer(StrictSerializerMixin, serializers.Serializer):
    other = serializers.IntegerField(help_text="L'autre dossier (doublon possible de celui-ci).")
    verdict = serializers.ChoiceField(
        DuplicateVerdict.choices, help_text="`linked` : même personne ; `dismissed` : ce n'est pas la même personne."
    )
