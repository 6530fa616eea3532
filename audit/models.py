"""Append-only, hash-chained access journal. No personal data: ids, actions and IPs only."""

import hashlib
import json

from django.conf import settings
from django.db import models
from django.utils import timezone


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
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    class Meta:
        verbose_name = "événement du journal"
        verbose_name_plural = "journal des accès"
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Le journal des accès est en ajout seul.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Le journal des accès est en ajout seul.")

    def compute_hash(self) -> str:
        content = json.dumps(
            [
                self.created_at.isoformat(),
                self.actor_id,
                self.action,
                self.object_type,
                self.object_id,
                self.detail,
                self.ip,
            ],
            separators=(",", ":"),
        )
        return hashlib.sha256((self.prev_hash + content).encode()).hexdigest()
