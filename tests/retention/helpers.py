"""Helpers of the retention tests: files, travel back from the session's instant, every figure of every quarter."""

from dataclasses import asdict

import time_machine
from dateutil.relativedelta import relativedelta
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import Jurisdiction
from cidff.models import EvaluationReport
from cidff.services import report_render
from parquet.documents import decision_document_render
from parquet.models import DecisionDocument
from referrals import services as referral_services
from referrals.models import ReferralDocument
from retention import services as retention_services
from stats.selectors import Scope, quarter_period, stats_census, stats_summary
from tests.factories import user

PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\nxref\n0 4\n0000000000 65535 f \n"
    b"0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\n"
    b"startxref\n164\n%%EOF\n"
)


def attach(referral, who: str):
    upload = SimpleUploadedFile("piece.pdf", PDF, content_type="application/pdf")
    return referral_services.document_upload(user=user(who), referral_id=referral.pk, upload=upload, kind="evidence")


def render_files(referral) -> None:
    """What Celery renders after commit (the test transaction never commits): reports and decision PDFs."""
    for report in EvaluationReport.objects.filter(referral=referral, storage_name=""):
        report_render(report_id=report.pk)
    for document in DecisionDocument.objects.filter(decision__referral=referral, storage_name=""):
        decision_document_render(document_id=document.pk)


def stored_names(referral_ids) -> list[str]:
    names = list(ReferralDocument.objects.filter(referral__in=referral_ids).values_list("storage_name", flat=True))
    names += EvaluationReport.objects.filter(referral__in=referral_ids).values_list("storage_name", flat=True)
    names += DecisionDocument.objects.filter(decision__referral__in=referral_ids).values_list("storage_name", flat=True)
    return [name for name in names if name]


def back(**delta):
    """Travel to that long before the session's now (aware, Paris): the story of a fixture happens there."""
    return time_machine.travel(timezone.now() - relativedelta(**delta), tick=True)


def all_figures() -> list:
    """Summary and census of every quarter from three years back to now, for everything and each jurisdiction."""
    today = timezone.localdate()
    scopes = [Scope(), *(Scope(jurisdiction=j) for j in Jurisdiction.objects.all())]
    figures, day = [], today - relativedelta(years=3)
    while day <= today:
        year, quarter = day.year, (day.month - 1) // 3 + 1
        for scope in scopes:
            figures.append(asdict(stats_summary(scope=scope, period=quarter_period(year, quarter))))
            figures.append(asdict(stats_census(scope=scope, year=year, quarter=quarter)))
        day += relativedelta(months=3)
    return figures


def exists(name: str) -> bool:
    return default_storage.exists(name)


def past_due() -> dict:
    now = timezone.now()
    return {kind: queryset.count() for kind, queryset in retention_services._plan(now)}
