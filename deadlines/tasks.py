"""The beat's task: no arguments, nothing personal; the scan itself is idempotent."""

from celery import shared_task

from deadlines import services


@shared_task(acks_late=True)
def scan_deadlines() -> int:
    return services.deadlines_scan()
