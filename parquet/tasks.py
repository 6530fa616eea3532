"""Celery wrapper: the document id in, nothing personal in the arguments."""

from config.celery import app
from parquet import documents


@app.task(acks_late=True, time_limit=120, soft_time_limit=90)
def render_decision_document(document_id: int) -> str:
    return documents.decision_document_render(document_id=document_id).sha256
