"""The rapport d'évaluation du danger (PDF). Placeholder until the template lands."""

import hashlib
import json

from core.pdf import render_pdf


def report_data(evaluation) -> dict:
    referral = evaluation.referral
    return {"reference": referral.reference, "answers": evaluation.answers, "narrative": evaluation.narrative}


def render_report_pdf(evaluation, *, version: int | None) -> tuple[bytes, str]:
    data = report_data(evaluation)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()
    return render_pdf(
        "cidff/report.html", {"evaluation": evaluation, "data": data, "version": version, "data_sha256": digest}
    ), digest
