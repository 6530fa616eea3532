"""Background jobs enqueued once the transaction commits, by task name: ids in, nothing personal.

Naming the task instead of importing it keeps services and tasks from importing each other (a
task module imports its service; the service only knows the task's name).

With a broker, a job is first a row of the outbox (`core.models.Job`) written in the caller's transaction: the
change and the job it owes commit together or not at all. After the commit the job is sent; if the broker is
down, the row waits and the relay (`jobs_relay`, from beat) sends it once the broker is back, and again if a
broker restart lost it. Workers run it at most once to completion: `JobTask` locks the row, skips a job already
done, and marks it done in the transaction of its work (a redelivered message, or a worker killed mid-way and
its message redelivered, never doubles a side effect). Eager (the embedded default): run after the commit, as is.
"""

import logging
import re
from datetime import timedelta
from functools import cache, partial

from celery import Task, current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

logger = logging.getLogger(__name__)

JOB_TASK_ID = re.compile(r"^job-(\d+)$")
SEND_GRACE = timedelta(seconds=10)  # a job just committed is being sent by its own request: the relay waits
KEEP_DONE = timedelta(days=7)  # done jobs are deleted after this (they hold only ids)
RELAY_BATCH = 500


@cache
def _tasks_loaded() -> None:
    """Import every app's tasks module once (Celery's autodiscovery), so a name finds its task."""
    current_app.loader.import_default_modules()


def _task(name: str):
    _tasks_loaded()
    return current_app.tasks[name]


def enqueue_on_commit(task_name: str, *args) -> None:
    """Run `task_name(*args)` after the current transaction commits (eagerly in the embedded default)."""
    if current_app.conf.task_always_eager:
        transaction.on_commit(partial(_run_eagerly, task_name, args))
        return
    from core.models import Job

    job = Job.objects.create(task=task_name, args=list(args))
    transaction.on_commit(partial(job_send, job))


def _run_eagerly(task_name: str, args: tuple) -> None:
    _task(task_name).delay(*args)


def job_send(job) -> bool:
    """Send one owed job to the broker; with the broker down it stays owed for the relay (never an error here)."""
    from core.models import Job

    try:
        _publish(job)
    except BrokerUnavailable:
        logger.warning("Courtier injoignable : tâche %s (n° %s) gardée pour le relais.", job.task, job.pk)
        return False
    Job.objects.filter(pk=job.pk).update(sent_at=timezone.now())
    return True


def _publish(job) -> None:
    # No publishing retries: a request must not hang on a down broker; the relay retries.
    _task(job.task).apply_async(args=job.args, task_id=f"job-{job.pk}", retry=False)


def jobs_relay() -> dict[str, int]:
    """Send the owed jobs (never sent, or sent long ago and still not done), oldest first, in bounded batches;
    delete those done long ago. Two relays at once never send the same job (rows locked, the locked skipped)."""
    from core.models import Job

    now = timezone.now()
    sent = []
    with transaction.atomic():
        owed = (
            Job.objects.filter(done_at__isnull=True)
            .filter(
                Q(sent_at__isnull=True, created_at__lte=now - SEND_GRACE)
                | Q(sent_at__lte=now - timedelta(seconds=settings.JOB_RESEND_SECONDS))
            )
            .order_by("id")
            .select_for_update(skip_locked=True)[:RELAY_BATCH]
        )
        for job in owed:
            try:
                _publish(job)
            except BrokerUnavailable:
                logger.warning("Courtier injoignable : le relais reprendra à son prochain passage.")
                break
            sent.append(job.pk)
        Job.objects.filter(pk__in=sent).update(sent_at=now)
    done = Job.objects.filter(pk__in=Job.objects.filter(done_at__lte=now - KEEP_DONE).values("pk")[:RELAY_BATCH])
    deleted, _ = done.delete()
    if sent or deleted:
        logger.info("Relais des tâches : %s envoyée(s), %s effacée(s).", len(sent), deleted)
    return {"sent": len(sent), "deleted": deleted}


class JobTask(Task):
    """Every Vigie task: a message of an outbox job runs its work at most once to completion."""

    def __call__(self, *args, **kwargs):
        match = JOB_TASK_ID.match(self.request.id or "")
        if match is None:  # beat's periodic tasks, eager runs: no outbox row
            return super().__call__(*args, **kwargs)
        from core.models import Job

        with transaction.atomic():
            job = Job.objects.select_for_update().filter(pk=int(match.group(1))).first()
            if job is None or job.done_at is not None:
                return None
            result = super().__call__(*args, **kwargs)
            job.done_at = timezone.now()
            job.save(update_fields=["done_at"])
        return result
