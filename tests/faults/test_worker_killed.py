"""A worker killed (SIGKILL) at random moments while it renders reports, again and again: every report ends
rendered once, every dossier in its state, every e-mail sent once — nothing lost, nothing doubled.

`make chaos` runs the same with CHAOS_KILLS=100.
"""

import io
import os
import random
import signal
import time

import pytest
from django.core.files.storage import default_storage
from pypdf import PdfReader

from cidff import services as cidff_services
from cidff.models import EvaluationReport, ReportStatus
from core.files import read_private
from notifications.models import Notification
from referrals.workflow import Status
from tests.conftest import CeleryProcesses, celery_on
from tests.faults.conftest import jobs_all_done, message_ids

pytestmark = [pytest.mark.django_db(transaction=True)]
KILLS = int(os.environ.get("CHAOS_KILLS", "20"))
REPORTS = 12
WORKER_LIFE = (1.0, 3.5)  # seconds between a worker's start and its kill: its start-up, then some renders
DRAIN_SECONDS = 180


def test_reports_survive_a_worker_killed_twenty_times(broker_url, tmp_path, users, make_evaluation):
    evaluations = [make_evaluation("validated") for _ in range(REPORTS)]
    processes = CeleryProcesses(broker_url, tmp_path)
    # the relay (beat's tick, run by a worker) re-sends soon what a killed worker took with it
    processes.env.update(VIGIE_JOB_RELAY_SECONDS="1", VIGIE_JOB_RESEND_SECONDS="4")
    rng = random.Random()
    first_notification = Notification.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with celery_on(broker_url):
        try:
            for evaluation in evaluations:  # each sends a report to render and tells the parquet
                cidff_services.evaluation_send(user=users["coord_sud"], evaluation_id=evaluation.pk)
            processes.start("beat")
            for _ in range(KILLS):
                worker = processes.start("worker", "--pool=solo")
                time.sleep(rng.uniform(*WORKER_LIFE))
                os.kill(worker.pid, signal.SIGKILL)
                worker.wait()
            processes.start("worker", "--pool=solo")
            drained = jobs_all_done(within=DRAIN_SECONDS)
        finally:
            processes.stop()

    assert drained, "des tâches dues n'ont jamais été faites"
    reports = EvaluationReport.objects.filter(evaluation__in=evaluations).select_related("referral")
    assert reports.count() == REPORTS
    for report in reports:
        assert report.status == ReportStatus.READY and report.referral.status == Status.REPORT_SENT
        assert report.storage_name == f"reports/report-{report.pk}"
        assert len(PdfReader(io.BytesIO(read_private(report.storage_name))).pages) >= 1
    assert sorted(default_storage.listdir("reports")[1]) == sorted(f"report-{r.pk}" for r in reports), (
        "un PDF en double ou orphelin"
    )
    notifications = Notification.objects.filter(pk__gt=first_notification)
    emailed = notifications.exclude(user__email="")
    assert emailed.count() and not emailed.filter(emailed_at__isnull=True).exists()
    identities = message_ids(processes.mail_dir)
    assert sorted(identities) == sorted(set(identities)), "un e-mail envoyé deux fois"
    assert len(identities) == emailed.count(), "un e-mail perdu"
