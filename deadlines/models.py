"""Stored deadlines of a dossier: opened and closed by the services, raised by the beat scan."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from referrals.models import Referral
from referrals.workflow import DeadlineKind


class DeadlineState(models.TextChoices):
    OPEN = "open", "À venir"
    MET = "met", "Tenue"
    OVERDUE = "overdue", "Dépassée"
    CANCELLED = "cancelled", "Annulée"


class Deadline(models.Model):
    """One date to watch on one dossier; `raised_at` is set once, when the scan tells people."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="deadlines")
    kind = models.CharField("type", max_length=20, choices=DeadlineKind.choices)
    due_at = models.DateTimeField("échéance")
    reference_date = models.DateField(
        "date concernée", null=True, blank=True, help_text="Libération, échéance ou fin d'interdiction visée."
    )
    days_before = models.PositiveSmallIntegerField("jours avant la date concernée", default=0)
    state = models.CharField("état", max_length=10, choices=DeadlineState.choices, default=DeadlineState.OPEN)
    opened_at = models.DateTimeField("ouverte le", default=timezone.now)
    raised_at = models.DateTimeField("signalée le", null=True, blank=True)
    closed_at = models.DateTimeField("close le", null=True, blank=True)

    class Meta:
        verbose_name = "échéance"
        verbose_name_plural = "échéances"
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["state", "due_at"]), models.Index(fields=["referral", "state"])]
        constraints = [
            # One watched instance of each reminder at a time: a re-sync can never double it.
            models.UniqueConstraint(
                fields=["referral", "kind", "days_before"],
                condition=Q(state="open"),
                name="deadline_one_open_per_kind",
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} — {self.due_at:%Y-%m-%d %H:%M}"
