"""A user's inbox: one row per event worth telling, pointing at a dossier (never at its content)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from referrals.models import Referral


class NotificationKind(models.TextChoices):
    REFERRAL_SUBMITTED = "referral_submitted", "Nouveau signalement à traiter"
    REFERRAL_ACKNOWLEDGED = "referral_acknowledged", "Accusé de réception du CIDFF"
    EVALUATION_FINALIZED = "evaluation_finalized", "Évaluation à valider (seconde lecture)"
    EVALUATION_RETURNED = "evaluation_returned", "Évaluation renvoyée par la seconde lecture"
    REPORT_SENT = "report_sent", "Rapport d'évaluation à examiner"
    DECISION_TAKEN = "decision_taken", "Décision du parquet"
    OUTCOME_NOTICE = "outcome_notice", "Suite donnée au signalement"
    MEASURE_WITHDRAWN = "measure_withdrawn", "Retrait du téléphone — restitution attendue"
    MEASURE_ENDED = "measure_ended", "Fin de la mesure — restitution attendue"
    REEVALUATION_DUE = "reevaluation_due", "Réévaluation à mener avant l'échéance"
    ALERT_REPORTED = "alert_reported", "Alerte déclenchée par la bénéficiaire"
    ACKNOWLEDGEMENT_OVERDUE = "acknowledgement_overdue", "Signalement non pris en charge dans le délai"
    EVALUATION_OVERDUE = "evaluation_overdue", "Rapport d'évaluation en retard sur la convention"
    DECISION_PENDING = "decision_pending", "Rapport en attente de décision"
    TERM_APPROACHING = "term_approaching", "Échéance de la mesure dans les prochains jours"
    DEVICE_RETURN_OVERDUE = "device_return_overdue", "Téléphone non restitué dans le délai"
    AUTHOR_RELEASE = "author_release", "Libération de l'auteur prochaine"
    CONTACT_BAN_ENDING = "contact_ban_ending", "Interdiction de contact prenant fin avant l'échéance"
    MISSED_TESTS = "missed_tests", "Tests périodiques du téléphone manqués à répétition"


class Notification(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField("type", max_length=40, choices=NotificationKind.choices)
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="notifications")
    deadline = models.ForeignKey(
        "deadlines.Deadline", verbose_name="échéance", on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField("date", default=timezone.now)
    read_at = models.DateTimeField("lue le", null=True, blank=True)
    emailed_at = models.DateTimeField("envoyée par e-mail le", null=True, blank=True)

    class Meta:
        verbose_name = "notification"
        verbose_name_plural = "notifications"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.referral_id}"


class NotificationPreference(models.Model):
    """A user's choice for one kind: also send the e-mail copy or not (the in-app notice always stays)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    kind = models.CharField("type", max_length=40, choices=NotificationKind.choices)
    email = models.BooleanField("copie par e-mail", default=True)

    class Meta:
        verbose_name = "préférence de notification"
        verbose_name_plural = "préférences de notification"
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_preference_unique")]

    def __str__(self):
        return f"{self.kind}: {'e-mail' if self.email else 'sans e-mail'}"
