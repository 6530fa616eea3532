"""The dates of the report, the decision and the measure, and what Vigie does itself when they fall.

Registered with the deadline engine through `referrals.hooks` (see `parquet.apps`): the rules say
what the dossier as it stands asks to watch; the automatic steps open the re-evaluation at the
notice date and end the measure at its term.
"""

import datetime

from cidff.models import EvaluationKind
from cidff.selectors import evaluation_latest_sent
from core.calendar import local_date, midnight, morning
from parquet.models import AttributionStatus, Outcome
from parquet.services import attribution_end_at_term, measure_request_reevaluation
from referrals.deadline_rules import evaluation_delay
from referrals.workflow import DeadlineKind, Status


def _ban_expiry(evaluation) -> datetime.date | None:
    """The no-contact ban's end, as the evaluation recorded it (ISO text in the encrypted answers)."""
    expiry = (evaluation.eligibility or {}).get("ban_expiry") if evaluation else None
    return datetime.date.fromisoformat(expiry) if expiry else None


def complement_and_decision(referral, now) -> dict:
    """The complement the parquet asked for, then the parquet's decision on the latest report."""
    convention = referral.cidff.jurisdiction
    wanted = {}
    if referral.status == Status.INFO_REQUESTED:
        asked = referral.decisions.filter(outcome=Outcome.INFO_REQUESTED).order_by("-id").first()
        if asked is not None:
            wanted[(DeadlineKind.EVALUATION, 0)] = (asked.signed_at + evaluation_delay(referral), None)
    if referral.status in (Status.REPORT_SENT, Status.REEVALUATION):
        report = evaluation_latest_sent(referral=referral)
        awaiting = report is not None and (
            referral.status == Status.REPORT_SENT
            or (report.kind == EvaluationKind.RENEWAL and not referral.decisions.filter(evaluation=report).exists())
        )
        if awaiting:
            due = report.sent_at + datetime.timedelta(days=convention.decision_reminder_days)
            wanted[(DeadlineKind.DECISION, 0)] = (due, None)
    return wanted


def measure(referral, now) -> dict:
    """The term, its reminder, the re-evaluation notice and a no-contact ban ending first; then the return."""
    convention = referral.cidff.jurisdiction
    if referral.status == Status.ENDED:
        last = referral.attributions.exclude(status=AttributionStatus.ACTIVE).order_by("-id").first()
        if last is None or not last.ended_at:
            return {}
        return {
            (DeadlineKind.DEVICE_RETURN, 0): (
                last.ended_at + datetime.timedelta(days=convention.device_return_days),
                None,
            )
        }
    if referral.status not in (Status.ACTIVE, Status.REEVALUATION):
        return {}
    attribution = referral.attributions.filter(status=AttributionStatus.ACTIVE).first()
    if attribution is None:
        return {}
    term = attribution.end_date
    reminder = convention.term_reminder_days
    wanted = {
        (DeadlineKind.TERM_REMINDER, reminder): (morning(term - datetime.timedelta(days=reminder)), term),
        (DeadlineKind.TERM, 0): (midnight(term), term),
    }
    if referral.status == Status.ACTIVE:
        notice = convention.reevaluation_notice_days
        wanted[(DeadlineKind.REEVALUATION, notice)] = (morning(term - datetime.timedelta(days=notice)), term)
    expiry = _ban_expiry(evaluation_latest_sent(referral=referral))
    if expiry is not None and expiry < term:
        wanted[(DeadlineKind.CONTACT_BAN_END, reminder)] = (morning(expiry - datetime.timedelta(days=reminder)), expiry)
    return wanted


def reevaluation_due(*, referral, now) -> None:
    measure_request_reevaluation(referral=referral)


def term_reached(*, referral, now) -> None:
    attribution = referral.attributions.filter(status=AttributionStatus.ACTIVE).first()
    if attribution is not None:
        attribution_end_at_term(attribution_id=attribution.pk, today=local_date(now))
