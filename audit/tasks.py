"""Celery wrappers of the journal's services."""

from celery import shared_task

from audit.services import audit_checkpoint


@shared_task
def checkpoint_journal():
    """Beat: record the journal's head outside the database (VIGIE_AUDIT_CHECKPOINT_SECONDS)."""
    audit_checkpoint(by="beat")
