"""Celery wrapper: the document id in, nothing personal in the arguments."""

from celery import shared_task

from parquet import documents


@shared_task(acks_late=True, time_limit=120, soft_time_limit=90)
def render_decision_document(document_id: int) -> str:
    return documents.decision_document_render(document_id=document_id).sha256
