"""The beat's task: no arguments, nothing personal; the scan itself is idempotent."""

from config.celery import app
from deadlines import services


@app.task(acks_late=True)
def scan_deadlines() -> int:
    return services.deadlines_scan()
