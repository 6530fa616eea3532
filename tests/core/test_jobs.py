"""The outbox: a job commits with the change that owes it, waits out a down broker, and runs once."""

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from core import jobs
from core.models import Job
from notifications import services as notification_services
from tests.conftest import celery_on
from tests.faults.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)
TASK = "notifications.tasks.send_notification_email"


@pytest.fixture
def broker_down():
    """Broker mode, on a port where nothing listens."""
    with celery_on(f"redis://127.0.0.1:{free_port()}/0"):
        yield


def test_eager_mode_writes_no_outbox_row_and_runs_after_the_commit(monkeypatch):
    calls = []
    monkeypatch.setattr(notification_services, "notification_send_email", lambda **kw: calls.append(kw))
    with transaction.atomic():
        jobs.enqueue_on_commit(TASK, 7)
        assert calls == []
    assert calls == [{"notification_id": 7}]
    assert not Job.objects.exists()


def test_a_job_commits_with_its_change_and_a_down_broker_keeps_it_owed(broker_down):
    with transaction.atomic():
        jobs.enqueue_on_commit(TASK, 7)
    job = Job.objects.get()
    assert (job.task, job.args, job.sent_at, job.done_at) == (TASK, [7], None, None)


def test_a_rolled_back_change_owes_nothing(broker_down):
    with pytest.raises(RuntimeError), transaction.atomic():
        jobs.enqueue_on_commit(TASK, 7)
        raise RuntimeError
    assert not Job.objects.exists()


def later(delta: timedelta):
    return time_machine.travel(timezone.now() + delta, tick=True)


def test_the_relay_keeps_jobs_while_the_broker_is_down(broker_down):
    with transaction.atomic():
        jobs.enqueue_on_commit(TASK, 7)
    with later(jobs.SEND_GRACE + timedelta(seconds=1)):
        assert jobs.jobs_relay() == {"sent": 0, "deleted": 0}
    assert Job.objects.get().sent_at is None


def test_a_job_message_runs_its_work_once_however_often_it_is_delivered(monkeypatch):
    from notifications.tasks import send_notification_email

    calls = []
    monkeypatch.setattr(notification_services, "notification_send_email", lambda **kw: calls.append(kw) or True)
    job = Job.objects.create(task=TASK, args=[7])
    for _ in range(3):  # the first delivery, then a broker's redelivery and the relay's re-send
        send_notification_email.apply(args=[7], task_id=f"job-{job.pk}")
    assert calls == [{"notification_id": 7}]
    assert Job.objects.get().done_at is not None


def test_a_failed_run_leaves_the_job_owed(monkeypatch):
    from notifications.tasks import send_notification_email

    def fail(**kwargs):
        raise RuntimeError("panne")

    monkeypatch.setattr(notification_services, "notification_send_email", fail)
    job = Job.objects.create(task=TASK, args=[7])
    with pytest.raises(RuntimeError):
        send_notification_email.apply(args=[7], task_id=f"job-{job.pk}")
    assert Job.objects.get().done_at is None


def test_done_jobs_are_deleted_after_a_week():
    Job.objects.create(task=TASK, args=[1], sent_at=timezone.now(), done_at=timezone.now())
    with later(jobs.KEEP_DONE - timedelta(minutes=1)):
        assert jobs.jobs_relay() == {"sent": 0, "deleted": 0}
    with later(jobs.KEEP_DONE + timedelta(minutes=1)):
        assert jobs.jobs_relay() == {"sent": 0, "deleted": 1}
