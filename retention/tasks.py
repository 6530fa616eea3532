"""The beat's daily purge: no arguments, nothing personal; the purge is idempotent."""

from celery import shared_task

from retention import services


@shared_task(acks_late=True)
def purge_retention() -> dict:
    return services.retention_purge().counts
