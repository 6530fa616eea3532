"""The transactional outbox: background jobs written in the same transaction as the change that owes them."""

from django.db import models
from django.db.models import Q
from django.utils import timezone


class Job(models.Model):
    """A job owed by a committed change: sent to the broker after the commit, re-sent by the relay until a worker
    has done it, done once (the worker marks it in the transaction of its work). Ids only in `args`."""

    task = models.CharField("tâche", max_length=100)
    args = models.JSONField("arguments (identifiants)", default=list)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "tâche différée"
        verbose_name_plural = "tâches différées"
        indexes = [models.Index(fields=["id"], condition=Q(done_at__isnull=True), name="job_owed")]

    def __str__(self):
        return f"{self.task} #{self.pk}"
