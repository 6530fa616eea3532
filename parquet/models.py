"""The parquet's decisions, the phone stock, the attribution periods, alerts and follow-up."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.models import Organisation
from cidff.models import Evaluation
from core.fields import EncryptedTextField, PrivateFileNameField
from referrals.models import Referral


class Outcome(models.TextChoices):
    GRANTED = "granted", "Attribution du téléphone"
    REFUSED = "refused", "Refus"
    INFO_REQUESTED = "info_requested", "Demande de complément"
    RESERVED = "reserved", "Téléphone réservé jusqu'à la libération de l'auteur"
    RENEWED = "renewed", "Renouvellement"
    ENDED = "ended", "Fin de la mesure (non-renouvellement)"


# Outcomes that decide on an initial (or complement) report, and on a renewal report.
INITIAL_OUTCOMES = (Outcome.GRANTED, Outcome.REFUSED, Outcome.INFO_REQUESTED, Outcome.RESERVED)
RENEWAL_OUTCOMES = (Outcome.RENEWED, Outcome.ENDED)


class Decision(models.Model):
    """Signed by its author and frozen: it can only be followed by a new decision."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="decisions")
    evaluation = models.ForeignKey(Evaluation, verbose_name="rapport examiné", on_delete=models.PROTECT)
    outcome = models.CharField("décision", max_length=20, choices=Outcome.choices)
    reasoning = EncryptedTextField("motivation")
    duration_months = models.PositiveSmallIntegerField("durée (mois)", null=True, blank=True)
    reserved_until = models.DateField("réservé jusqu'au", null=True, blank=True)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="magistrat", on_delete=models.PROTECT)
    signed_by = models.CharField("signé par", max_length=200)
    signed_at = models.DateTimeField("signé le", default=timezone.now)

    class Meta:
        verbose_name = "décision du procureur"
        verbose_name_plural = "décisions du procureur"
        ordering = ["id"]
        constraints = [
            # One final decision per report (a reservation may precede it): concurrent decisions collide here.
            models.UniqueConstraint(
                fields=["evaluation"], condition=~Q(outcome="reserved"), name="decision_one_final_per_report"
            ),
            models.UniqueConstraint(
                fields=["evaluation"], condition=Q(outcome="reserved"), name="decision_one_reservation_per_report"
            ),
        ]

    def __str__(self):
        return f"{self.get_outcome_display()} ({self.referral_id})"


class DocumentStatus(models.TextChoices):
    PENDING = "pending", "En cours de génération"
    READY = "ready", "Disponible"


WITHDRAWAL_REASONS_CHOICES = [
    ("withdrawn_by_victim", "À la demande de la bénéficiaire"),
    ("author_incarcerated", "Auteur incarcéré"),
    ("non_compliance", "Non-respect des conditions d'utilisation (après avis du comité de pilotage)"),
    ("moved", "Déménagement hors du ressort"),
    ("death", "Décès"),
    ("other", "Autre motif"),
]
WITHDRAWAL_REASONS = tuple(code for code, _ in WITHDRAWAL_REASONS_CHOICES)


class DecisionDocumentKind(models.TextChoices):
    DECISION = "decision", "Décision du procureur"
    BENEFICIARY_SHEET = "beneficiary_sheet", "Fiche bénéficiaire"


class DecisionDocument(models.Model):
    """A PDF rendered in Celery from a decision: the decision itself, or the beneficiary sheet."""

    decision = models.ForeignKey(Decision, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(max_length=20, choices=DecisionDocumentKind.choices)
    status = models.CharField(max_length=10, choices=DocumentStatus.choices, default=DocumentStatus.PENDING)
    storage_name = PrivateFileNameField(max_length=120, blank=True, editable=False)
    sha256 = models.CharField(max_length=64, blank=True)
    data_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    rendered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "document de décision"
        verbose_name_plural = "documents de décision"
        constraints = [models.UniqueConstraint(fields=["decision", "kind"], name="decision_document_unique")]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.decision_id})"


class DeviceStatus(models.TextChoices):
    IN_STOCK = "in_stock", "En stock"
    RESERVED = "reserved", "Réservé"
    ASSIGNED = "assigned", "Attribué"
    RETURNED = "returned", "Restitué — à contrôler"
    DEFECTIVE = "defective", "Défectueux"
    LOST = "lost", "Perdu"
    RETIRED = "retired", "Réformé"


class Device(models.Model):
    serial = models.CharField("numéro de série / IMEI", max_length=40, unique=True)
    phone_number = models.CharField("numéro d'appel", max_length=20, unique=True)
    status = models.CharField("état", max_length=12, choices=DeviceStatus.choices, default=DeviceStatus.IN_STOCK)
    organisation = models.ForeignKey(
        Organisation, verbose_name="organisation détentrice", on_delete=models.PROTECT, related_name="devices"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "téléphone"
        verbose_name_plural = "téléphones"
        ordering = ["serial"]

    def __str__(self):
        return f"Téléphone {self.serial}"


class DeviceEvent(models.Model):
    """Every change of a device, in order: who, when, from which state to which."""

    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="events")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    from_status = models.CharField(max_length=12, choices=DeviceStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=DeviceStatus.choices)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "historique du téléphone"
        verbose_name_plural = "historique des téléphones"
        ordering = ["id"]

    def __str__(self):
        return f"{self.device_id} : {self.from_status} → {self.to_status}"


class AttributionStatus(models.TextChoices):
    ACTIVE = "active", "En cours"
    ENDED = "ended", "Terminée"
    WITHDRAWN = "withdrawn", "Retirée"


class Attribution(models.Model):
    """One period of the measure (initial grant or renewal): which phone, from when to when."""

    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="attributions")
    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="attribution")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="attributions")
    handover_date = models.DateField("remise le")
    start_date = models.DateField("début")
    end_date = models.DateField("échéance")
    consent = models.BooleanField("consentement exprès recueilli")
    geolocation_consent = models.BooleanField("consentement à la géolocalisation")
    agreement = models.ForeignKey(
        "referrals.ReferralDocument",
        verbose_name="convention d'utilisation signée",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
    )
    status = models.CharField(
        "état", max_length=10, choices=AttributionStatus.choices, default=AttributionStatus.ACTIVE
    )
    ended_at = models.DateTimeField("terminée le", null=True, blank=True)
    end_reason = models.CharField("motif de fin", max_length=32, blank=True)
    copil_opinion_date = models.DateField("date de l'avis du comité de pilotage", null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "période d'attribution"
        verbose_name_plural = "périodes d'attribution"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["device"], condition=Q(status="active"), name="attribution_one_per_device"),
            models.UniqueConstraint(
                fields=["referral"], condition=Q(status="active"), name="attribution_one_per_referral"
            ),
            models.CheckConstraint(
                condition=Q(end_date__gt=models.F("start_date")), name="attribution_end_after_start"
            ),
        ]

    def __str__(self):
        return f"Attribution {self.pk} ({self.start_date} → {self.end_date})"


class DeviceReturn(models.Model):
    """The phone back in the CIDFF's hands at the end of the measure."""

    CONDITIONS = [("good", "Bon état"), ("defective", "Défectueux"), ("lost", "Non restitué (perdu)")]

    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="device_return")
    device = models.ForeignKey(Device, on_delete=models.PROTECT, related_name="returns")
    returned_on = models.DateField("restitué le")
    condition = models.CharField("état", max_length=10, choices=CONDITIONS)
    notes = EncryptedTextField("observations")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "restitution"
        verbose_name_plural = "restitutions"

    def __str__(self):
        return f"Restitution {self.pk}"


class AlertKind(models.TextChoices):
    REAL = "real_alert", "Alerte réelle"
    FALSE = "false_manipulation", "Fausse manipulation"
    MISSED_TEST = "missed_test", "Test périodique manqué"


class Alert(models.Model):
    attribution = models.ForeignKey(Attribution, on_delete=models.PROTECT, related_name="alerts")
    occurred_at = models.DateTimeField("date et heure")
    kind = models.CharField("type", max_length=20, choices=AlertKind.choices)
    police_intervention = models.BooleanField("intervention des forces de l'ordre", default=False)
    arrest = models.BooleanField("interpellation", default=False)
    notes = EncryptedTextField("observations")
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "alerte"
        verbose_name_plural = "alertes"
        ordering = ["-occurred_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.occurred_at:%Y-%m-%d %H:%M})"


class ContactChannel(models.TextChoices):
    PHONE = "phone", "Téléphone"
    MEETING = "meeting", "Entretien"
    HOME_VISIT = "home_visit", "Visite"
    MESSAGE = "message", "Message"
    OTHER = "other", "Autre"


class FollowUpContact(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.PROTECT, related_name="follow_ups")
    date = models.DateField("date")
    channel = models.CharField("canal", max_length=12, choices=ContactChannel.choices)
    notes = EncryptedTextField("notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "contact de suivi"
        verbose_name_plural = "contacts de suivi"
        ordering = ["-date", "-id"]

    def __str__(self):
        return f"Contact {self.pk} ({self.date})"


class AttributionUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Attribution, on_delete=models.CASCADE)


class AttributionGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Attribution, on_delete=models.CASCADE)
