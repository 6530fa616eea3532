"""Celery wrapper: the report id in, nothing personal in the arguments."""

from celery import shared_task

from cidff import services


@shared_task(acks_late=True, time_limit=120, soft_time_limit=90)
def render_report(report_id: int) -> str:
    return services.report_render(report_id=report_id).sha256
