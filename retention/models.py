"""A legal hold (gel): while it is active, the retention purge leaves the dossier, its files and its sheet alone."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.fields import EncryptedTextField
from referrals.models import Referral


class LegalHold(models.Model):
    referral = models.ForeignKey(Referral, verbose_name="dossier", on_delete=models.CASCADE, related_name="legal_holds")
    reason = EncryptedTextField("motif")
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="posé par", on_delete=models.PROTECT, related_name="+"
    )
    set_at = models.DateTimeField("posé le", default=timezone.now)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="levé par",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    lifted_at = models.DateTimeField("levé le", null=True, blank=True)

    class Meta:
        verbose_name = "gel de conservation"
        verbose_name_plural = "gels de conservation"
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["referral"], condition=Q(lifted_at__isnull=True), name="legal_hold_one_active_per_referral"
            )
        ]

    def __str__(self):
        return f"Gel {self.pk} du dossier {self.referral_id}"

    @property
    def active(self) -> bool:
        return self.lifted_at is None
