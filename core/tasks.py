"""Celery wrapper of the outbox relay (run by beat)."""

from celery import shared_task

from core.jobs import jobs_relay


@shared_task
def relay_jobs() -> dict[str, int]:
    return jobs_relay()
