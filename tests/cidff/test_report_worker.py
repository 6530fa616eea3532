"""Sending an evaluation: a real Celery worker against Redis renders and stores the report PDF."""

import io
import time

import pytest
from pypdf import PdfReader

from cidff import services
from cidff.models import EvaluationReport
from core.files import read_private


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_report_appears_through_a_real_worker(users, make_evaluation, real_worker):
    evaluation = make_evaluation("validated", yes=("V03", "V04", "S01"))
    services.evaluation_send(user=users["coord_sud"], evaluation_id=evaluation.pk)
    report = EvaluationReport.objects.get(evaluation=evaluation)
    deadline = time.monotonic() + 90
    while report.status != "ready" and time.monotonic() < deadline:
        time.sleep(0.5)
        report.refresh_from_db()
    assert report.status == "ready", "le worker n'a pas produit le rapport en 90 s"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(read_private(report.storage_name))).pages)
    assert evaluation.referral.reference in text

    services.report_render(report_id=report.pk)  # running the task again changes nothing
    again = EvaluationReport.objects.get(pk=report.pk)
    assert (again.sha256, again.storage_name, again.rendered_at) == (
        report.sha256,
        report.storage_name,
        report.rendered_at,
    )
    assert EvaluationReport.objects.filter(evaluation=evaluation).count() == 1
