"""A user's inbox: one row per event worth telling, pointing at a dossier (never at its content)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from referrals.models import Referral
from referrals.workflow import NotificationKind


class Notification(models.Model):
    """One per user, dossier and kind: a new notice of the same kind replaces the previous one (unread again)."""

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
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "read_at"])]
        constraints = [
            # One per dossier and reason: notify() updates the row (date, deadline, unread, e-mail copy).
            models.UniqueConstraint(fields=["user", "referral", "kind"], name="notification_one_per_dossier_and_kind")
        ]

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
