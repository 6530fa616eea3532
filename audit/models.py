"""Append-only, HMAC-chained access journal. No personal data: ids, actions and IPs only."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from audit.seal import seal

APPEND_ONLY = "Le journal des accès est en ajout seul."


class AccessEventQuerySet(models.QuerySet):
    """No bulk change through the ORM either; only audit.services.audit_purge removes rows (in SQL)."""

    def update(self, **kwargs):
        raise ValueError(APPEND_ONLY)

    def delete(self):
        raise ValueError(APPEND_ONLY)


class AccessEvent(models.Model):
    created_at = models.DateTimeField("date (UTC)", default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="auteur", on_delete=models.PROTECT, null=True, blank=True
    )
    action = models.CharField("action", max_length=64)
    object_type = models.CharField("type d'objet", max_length=32, blank=True)
    object_id = models.CharField("identifiant", max_length=64, blank=True)
    detail = models.CharField("détail", max_length=200, blank=True)
    ip = models.GenericIPAddressField("adresse IP", null=True, blank=True)
    prev_mac = models.CharField("sceau précédent", max_length=64)
    mac = models.CharField("sceau (HMAC-SHA256)", max_length=64, unique=True)

    objects = AccessEventQuerySet.as_manager()

    class Meta:
        verbose_name = "événement du journal"
        verbose_name_plural = "journal des accès"
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError(APPEND_ONLY)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError(APPEND_ONLY)

    def compute_mac(self) -> str:
        """HMAC-SHA256 under VIGIE_AUDIT_KEY of the previous seal and this row's content."""
        return seal(
            "vigie-audit-event-v1",
            [
                self.prev_mac,
                self.created_at.isoformat(),
                self.actor_id,
                self.action,
                self.object_type,
                self.object_id,
                self.detail,
                self.ip,
            ],
        )
