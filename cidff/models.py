"""The CIDFF's danger evaluation: instrument versions, evaluations, addenda and report renderings."""

from typing import NamedTuple

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.fields import EncryptedJSONField, EncryptedTextField, PrivateFileNameField
from referrals.models import Referral


class Instrument(models.Model):
    """One immutable version of an evaluation grid; evaluations point at the version they used."""

    code = models.CharField("code", max_length=40)
    version = models.PositiveIntegerField("version")
    title = models.CharField("titre", max_length=200)
    definition = models.JSONField("définition")
    sha256 = models.CharField("SHA-256", max_length=64, editable=False)
    is_active = models.BooleanField("version active", default=False)
    loaded_at = models.DateTimeField("chargée le", default=timezone.now)
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="chargée par", on_delete=models.PROTECT, null=True, blank=True
    )

    class Meta:
        verbose_name = "grille d'évaluation"
        verbose_name_plural = "grilles d'évaluation"
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="instrument_code_version_unique"),
            models.UniqueConstraint(fields=["code"], condition=Q(is_active=True), name="instrument_one_active_version"),
        ]

    def __str__(self):
        return f"{self.title} (v{self.version})"


class EvaluationKind(models.TextChoices):
    INITIAL = "initial", "Évaluation initiale"
    RENEWAL = "renewal", "Réévaluation avant échéance"
    COMPLEMENT = "complement", "Complément demandé par le parquet"


class EvaluationStatus(models.TextChoices):
    DRAFT = "draft", "En cours de saisie"
    FINALIZED = "finalized", "Finalisée — à valider"
    VALIDATED = "validated", "Validée — prête à transmettre"
    SENT = "sent", "Transmise au parquet"


OPEN_EVALUATION_STATUSES = (EvaluationStatus.DRAFT, EvaluationStatus.FINALIZED, EvaluationStatus.VALIDATED)


class EvaluationStep(NamedTuple):
    sources: frozenset  # the states it may start from
    target: str | None  # the state it leads to (None: the evaluation stays where it is)
    by: str  # the action of cidff.policies.evaluation_policy that entitles a user to take it


# The evaluation's own states and the steps out of each (cidff.services checks them; a test walks them:
# every state but `sent` has a step some role may take, so no evaluation is ever stuck).
EVALUATION_STEPS: dict[str, EvaluationStep] = {
    "update": EvaluationStep(frozenset({EvaluationStatus.DRAFT}), None, "fill"),
    "finalize": EvaluationStep(frozenset({EvaluationStatus.DRAFT}), EvaluationStatus.FINALIZED, "fill"),
    "validate": EvaluationStep(frozenset({EvaluationStatus.FINALIZED}), EvaluationStatus.VALIDATED, "validate"),
    # back to the evaluator, with a reason: also once validated, as long as the report is not sent
    "return": EvaluationStep(
        frozenset({EvaluationStatus.FINALIZED, EvaluationStatus.VALIDATED}), EvaluationStatus.DRAFT, "second_read"
    ),
    # a correction or precision; it may correct eligibility (a validated one then needs a new second reading
    # unless the second reader wrote it)
    "addendum": EvaluationStep(frozenset({EvaluationStatus.FINALIZED, EvaluationStatus.VALIDATED}), None, "amend"),
    "send": EvaluationStep(frozenset({EvaluationStatus.VALIDATED}), EvaluationStatus.SENT, "second_read"),
}
FINAL_EVALUATION_STATUSES = frozenset({EvaluationStatus.SENT})


class Recommendation(models.TextChoices):
    PHONE = "phone", "Attribuer un téléphone grave danger"
    COMPLAINT = "complaint", "Accompagner un dépôt de plainte"
    PROTECTION_ORDER = "protection_order", "Demander une ordonnance de protection"
    PARTNER = "partner", "Orienter vers une association partenaire"
    SHELTER = "shelter", "Mise à l'abri / hébergement"
    OTHER = "other", "Autre"


class Evaluation(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="evaluations")
    kind = models.CharField("type", max_length=12, choices=EvaluationKind.choices, default=EvaluationKind.INITIAL)
    status = models.CharField("état", max_length=12, choices=EvaluationStatus.choices, default=EvaluationStatus.DRAFT)
    instrument = models.ForeignKey(Instrument, verbose_name="grille", on_delete=models.PROTECT)
    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="évaluatrice", on_delete=models.PROTECT, related_name="evaluations"
    )

    interview = EncryptedJSONField("entretien(s)", default=dict)  # {"dates": [...], "place": ""}
    answers = EncryptedJSONField("réponses", default=dict)  # {item: {"answer": ..., "comment": ...}}
    eligibility = EncryptedJSONField("éligibilité", default=dict)
    judgement = models.CharField("niveau retenu par l'évaluatrice", max_length=40, blank=True)
    judgement_reason = EncryptedTextField("motif du relèvement")
    narrative = EncryptedTextField("synthèse")
    recommendation = models.JSONField("préconisations", default=list)
    returned_comment = EncryptedTextField("motif du renvoi par la seconde lecture")

    # Frozen at finalization (plain: the figures of the comité de pilotage are counted on them).
    score_weighted = models.FloatField("score pondéré", null=True, blank=True)
    score_red = models.PositiveSmallIntegerField("éléments rouges", null=True, blank=True)
    score_unknown = models.PositiveSmallIntegerField("réponses « ne sait pas »", null=True, blank=True)
    computed_level = models.CharField("niveau calculé", max_length=40, blank=True)
    final_level = models.CharField("niveau retenu", max_length=40, blank=True)
    incomplete = models.BooleanField("incomplète", default=False)

    created_at = models.DateTimeField("créée le", default=timezone.now)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)
    finalized_at = models.DateTimeField("finalisée le", null=True, blank=True)
    # Set when the second reading sends the evaluation back, cleared when it is finalised again.
    returned_at = models.DateTimeField("renvoyée le", null=True, blank=True)
    validated_at = models.DateTimeField("validée le", null=True, blank=True)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="seconde lecture",
        on_delete=models.PROTECT,
        related_name="validated_evaluations",
        null=True,
        blank=True,
    )
    sent_at = models.DateTimeField("transmise le", null=True, blank=True)

    class Meta:
        verbose_name = "évaluation"
        verbose_name_plural = "évaluations"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral"],
                condition=Q(status__in=OPEN_EVALUATION_STATUSES),
                name="evaluation_one_open_per_referral",
            )
        ]

    def __str__(self):
        return f"Évaluation {self.pk} ({self.get_kind_display()})"


class EvaluationAddendum(models.Model):
    """A correction or precision added after finalization: answers are never edited then."""

    evaluation = models.ForeignKey(Evaluation, on_delete=models.PROTECT, related_name="addenda")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)
    text = EncryptedTextField("addendum")
    # Eligibility corrections carried by the addendum ({key: new value}), applied to the evaluation.
    eligibility = EncryptedJSONField("corrections d'éligibilité", default=dict)

    class Meta:
        verbose_name = "addendum"
        verbose_name_plural = "addenda"
        ordering = ["id"]

    def __str__(self):
        return f"Addendum {self.pk}"


class ReportStatus(models.TextChoices):
    PENDING = "pending", "En cours de génération"
    READY = "ready", "Disponible"


class EvaluationReport(models.Model):
    """One rendering of the rapport d'évaluation du danger; versions count per dossier."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="reports")
    evaluation = models.OneToOneField(Evaluation, on_delete=models.PROTECT, related_name="report")
    version = models.PositiveSmallIntegerField("version")
    status = models.CharField("état", max_length=10, choices=ReportStatus.choices, default=ReportStatus.PENDING)
    storage_name = PrivateFileNameField(max_length=120, blank=True, editable=False)
    sha256 = models.CharField("SHA-256 du PDF", max_length=64, blank=True)
    data_sha256 = models.CharField("SHA-256 des données", max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "rapport d'évaluation"
        verbose_name_plural = "rapports d'évaluation"
        ordering = ["referral", "version"]
        constraints = [models.UniqueConstraint(fields=["referral", "version"], name="report_version_unique")]

    def __str__(self):
        return f"Rapport v{self.version} ({self.referral_id})"
