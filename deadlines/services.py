"""Deadlines of a dossier: synced by the services at every transition, raised once by the beat scan.

The dates are stored (never long Celery ETAs), so a restarted worker or a moved convention
setting loses nothing. Raising takes the dossier's row lock first, like every transition: a
deadline is never raised while a transition is closing it, and two overlapping scans (or a scan
retried after a killed worker) raise it exactly once.
"""

import datetime
import logging
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from cidff.models import EvaluationKind, EvaluationStatus
from deadlines.models import Deadline, DeadlineKind, DeadlineState
from notifications.models import NotificationKind
from notifications.services import notify
from parquet.models import Attribution, AttributionStatus, Outcome
from referrals.models import Referral, Urgency
from referrals.selectors import referral_coordinators, referral_prosecutors
from referrals.workflow import Status

logger = logging.getLogger(__name__)

LOCAL = ZoneInfo(settings.TIME_ZONE)
REMINDER_HOUR = 8  # date-based reminders go out at 08:00, Paris time, not at midnight
AUTHOR_RELEASE_DAYS = (15, 7, 1)
MISSED_TESTS_WINDOW = datetime.timedelta(days=30)
SCAN_BATCH = 500

# Raised and then waiting for someone to act (stay "overdue" until met) …
OBLIGATIONS = frozenset(
    {
        DeadlineKind.ACKNOWLEDGEMENT,
        DeadlineKind.EVALUATION,
        DeadlineKind.DECISION,
        DeadlineKind.DEVICE_RETURN,
        DeadlineKind.MISSED_TESTS,
    }
)
# … the others are reminders or automatic steps: done once raised.
NOTICE_KIND = {
    DeadlineKind.ACKNOWLEDGEMENT: NotificationKind.ACKNOWLEDGEMENT_OVERDUE,
    DeadlineKind.EVALUATION: NotificationKind.EVALUATION_OVERDUE,
    DeadlineKind.DECISION: NotificationKind.DECISION_PENDING,
    DeadlineKind.REEVALUATION: NotificationKind.REEVALUATION_DUE,
    DeadlineKind.TERM_REMINDER: NotificationKind.TERM_APPROACHING,
    DeadlineKind.DEVICE_RETURN: NotificationKind.DEVICE_RETURN_OVERDUE,
    DeadlineKind.AUTHOR_RELEASE: NotificationKind.AUTHOR_RELEASE,
    DeadlineKind.CONTACT_BAN_END: NotificationKind.CONTACT_BAN_ENDING,
    DeadlineKind.MISSED_TESTS: NotificationKind.MISSED_TESTS,
}
# Who is told, beyond the jurisdiction's extra alert recipients (notify() keeps only those who may see).
AUDIENCE = {
    DeadlineKind.ACKNOWLEDGEMENT: {"coordinators"},
    DeadlineKind.EVALUATION: {"coordinators", "evaluator"},
    DeadlineKind.DECISION: {"parquet"},
    DeadlineKind.REEVALUATION: {"coordinators", "evaluator"},
    DeadlineKind.TERM_REMINDER: {"coordinators", "evaluator", "parquet"},
    DeadlineKind.DEVICE_RETURN: {"coordinators"},
    DeadlineKind.AUTHOR_RELEASE: {"coordinators", "evaluator", "parquet"},
    DeadlineKind.CONTACT_BAN_END: {"coordinators", "evaluator", "parquet"},
    DeadlineKind.MISSED_TESTS: {"coordinators", "evaluator"},
}
# Kinds opened by an event rather than by the dossier's state, and the states they live in.
EVENT_KINDS = {DeadlineKind.MISSED_TESTS: frozenset({Status.ACTIVE, Status.REEVALUATION})}
# When a deadline stops being watched, it was met if the dossier reached one of these states.
MET_IN = {
    DeadlineKind.ACKNOWLEDGEMENT: frozenset(Status) - {Status.SUBMITTED, Status.CLOSED},
    DeadlineKind.EVALUATION: frozenset({Status.REPORT_SENT}),
    DeadlineKind.DECISION: frozenset(Status),
    DeadlineKind.REEVALUATION: frozenset({Status.REEVALUATION}),
    DeadlineKind.DEVICE_RETURN: frozenset({Status.CLOSED}),
}
RELEASE_WATCHED = frozenset(
    {
        Status.SUBMITTED,
        Status.RECEIVED,
        Status.EVALUATION,
        Status.REPORT_SENT,
        Status.INFO_REQUESTED,
        Status.RESERVED,
        Status.GRANTED,
        Status.ACTIVE,
        Status.REEVALUATION,
    }
)


# --- dates ----------------------------------------------------------------------------------------


def _morning(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(REMINDER_HOUR), tzinfo=LOCAL)


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=LOCAL)


def add_working_days(start: datetime.datetime, days: int) -> datetime.datetime:
    """Same local time, `days` working days later: weekends and French public holidays skipped."""
    local = timezone.localtime(start, LOCAL)
    day = local.date()
    public_holidays = holidays.country_holidays("FR", years=range(day.year, day.year + 2))
    counted = 0
    while counted < days:
        day += datetime.timedelta(days=1)
        if day.weekday() < 5 and day not in public_holidays:
            counted += 1
    return datetime.datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=LOCAL)


def _delay(urgent: bool, *, hours: int, days: int) -> datetime.timedelta:
    return datetime.timedelta(hours=hours) if urgent else datetime.timedelta(days=days)


# --- what the dossier's state asks to watch --------------------------------------------------------


def _latest_sent_evaluation(referral):
    return referral.evaluations.filter(status=EvaluationStatus.SENT).order_by("-sent_at", "-id").first()


def _ban_expiry(evaluation) -> datetime.date | None:
    """The no-contact ban's end, as the evaluation recorded it (ISO text in the encrypted answers)."""
    expiry = (evaluation.eligibility or {}).get("ban_expiry") if evaluation else None
    return datetime.date.fromisoformat(expiry) if expiry else None


def _release_reminders(release: datetime.date, now: datetime.datetime) -> dict:
    """J-15, J-7, J-1 before the release; of the reminders already past, only the latest is kept."""
    if release < timezone.localtime(now, LOCAL).date():
        return {}
    wanted, past = {}, None
    for days in AUTHOR_RELEASE_DAYS:
        due = _morning(release - datetime.timedelta(days=days))
        if due <= now:
            past = days
        else:
            wanted[(DeadlineKind.AUTHOR_RELEASE, days)] = (due, release)
    if past is not None:
        wanted[(DeadlineKind.AUTHOR_RELEASE, past)] = (_morning(release - datetime.timedelta(days=past)), release)
    return wanted


def _wanted(referral: Referral, now: datetime.datetime) -> dict:
    """{(kind, days_before): (due_at, reference_date)} for the dossier as it stands."""
    convention = referral.cidff.jurisdiction
    urgent = referral.urgency == Urgency.URGENT
    status = referral.status
    wanted = {}
    if status == Status.SUBMITTED and referral.submitted_at:
        due = (
            referral.submitted_at + datetime.timedelta(hours=convention.acknowledgement_urgent_hours)
            if urgent
            else add_working_days(referral.submitted_at, convention.acknowledgement_working_days)
        )
        wanted[(DeadlineKind.ACKNOWLEDGEMENT, 0)] = (due, None)
    evaluation_delay = _delay(urgent, hours=convention.evaluation_urgent_hours, days=convention.evaluation_days)
    if status in (Status.RECEIVED, Status.EVALUATION) and referral.acknowledged_at:
        wanted[(DeadlineKind.EVALUATION, 0)] = (referral.acknowledged_at + evaluation_delay, None)
    if status == Status.INFO_REQUESTED:
        asked = referral.decisions.filter(outcome=Outcome.INFO_REQUESTED).order_by("-signed_at").first()
        if asked is not None:
            wanted[(DeadlineKind.EVALUATION, 0)] = (asked.signed_at + evaluation_delay, None)
    if status in (Status.REPORT_SENT, Status.REEVALUATION):
        report = _latest_sent_evaluation(referral)
        awaiting = report is not None and (
            status == Status.REPORT_SENT
            or (report.kind == EvaluationKind.RENEWAL and not referral.decisions.filter(evaluation=report).exists())
        )
        if awaiting:
            due = report.sent_at + datetime.timedelta(days=convention.decision_reminder_days)
            wanted[(DeadlineKind.DECISION, 0)] = (due, None)
    if status in (Status.ACTIVE, Status.REEVALUATION):
        wanted.update(_measure_deadlines(referral, convention, status))
    if status == Status.ENDED:
        last = referral.attributions.exclude(status=AttributionStatus.ACTIVE).order_by("-ended_at").first()
        if last is not None and last.ended_at:
            wanted[(DeadlineKind.DEVICE_RETURN, 0)] = (
                last.ended_at + datetime.timedelta(days=convention.device_return_days),
                None,
            )
    if status in RELEASE_WATCHED and referral.author_release_date:
        wanted.update(_release_reminders(referral.author_release_date, now))
    return wanted


def _measure_deadlines(referral, convention, status) -> dict:
    attribution = referral.attributions.filter(status=AttributionStatus.ACTIVE).first()
    if attribution is None:
        return {}
    term = attribution.end_date
    reminder = convention.term_reminder_days
    wanted = {
        (DeadlineKind.TERM_REMINDER, reminder): (_morning(term - datetime.timedelta(days=reminder)), term),
        (DeadlineKind.TERM, 0): (_midnight(term), term),
    }
    if status == Status.ACTIVE:
        notice = convention.reevaluation_notice_days
        wanted[(DeadlineKind.REEVALUATION, notice)] = (_morning(term - datetime.timedelta(days=notice)), term)
    expiry = _ban_expiry(_latest_sent_evaluation(referral))
    if expiry is not None and expiry < term:
        wanted[(DeadlineKind.CONTACT_BAN_END, reminder)] = (
            _morning(expiry - datetime.timedelta(days=reminder)),
            expiry,
        )
    return wanted


def deadlines_sync(*, referral: Referral, now: datetime.datetime | None = None) -> None:
    """Open what the dossier's state now asks to watch; close (met or cancelled) what it no longer does.

    Called by `referral_move`, inside the transition's transaction and under the dossier's lock.
    A reminder already raised for the same date is never opened again.
    """
    now = now or timezone.now()
    wanted = _wanted(referral, now)
    watched = list(referral.deadlines.select_for_update().filter(state__in=[DeadlineState.OPEN, DeadlineState.OVERDUE]))
    for deadline in watched:
        key = (deadline.kind, deadline.days_before)
        target = wanted.get(key)
        if deadline.kind in EVENT_KINDS:
            if referral.status in EVENT_KINDS[deadline.kind]:
                continue
        elif target is not None and (deadline.state == DeadlineState.OVERDUE or target[0] == deadline.due_at):
            wanted.pop(key)
            continue
        met = referral.status in MET_IN.get(deadline.kind, ())
        deadline.state = DeadlineState.MET if met else DeadlineState.CANCELLED
        deadline.closed_at = now
        deadline.save(update_fields=["state", "closed_at"])
    if not wanted:
        return
    raised = set(
        referral.deadlines.filter(raised_at__isnull=False).values_list("kind", "days_before", "due_at").distinct()
    )
    Deadline.objects.bulk_create(
        Deadline(referral=referral, kind=kind, days_before=days, due_at=due, reference_date=reference, opened_at=now)
        for (kind, days), (due, reference) in wanted.items()
        if (kind, days, due) not in raised
    )


def deadline_missed_tests_check(*, attribution: Attribution, now: datetime.datetime | None = None) -> bool:
    """After a missed test: open the alert when the convention's count is reached over 30 days."""
    now = now or timezone.now()
    convention = attribution.referral.cidff.jurisdiction
    missed = attribution.alerts.filter(kind="missed_test", occurred_at__gte=now - MISSED_TESTS_WINDOW).count()
    if missed < convention.missed_tests_threshold:
        return False
    already = attribution.referral.deadlines.filter(
        kind=DeadlineKind.MISSED_TESTS, state__in=[DeadlineState.OPEN, DeadlineState.OVERDUE]
    ).exists()
    if not already:
        Deadline.objects.create(
            referral=attribution.referral, kind=DeadlineKind.MISSED_TESTS, due_at=now, opened_at=now
        )
    return not already


def deadlines_fulfil(*, referral: Referral, kind: str, now: datetime.datetime | None = None) -> int:
    """Someone did what an event-opened deadline asked (the CIDFF reached the beneficiary)."""
    return referral.deadlines.filter(kind=kind, state__in=[DeadlineState.OPEN, DeadlineState.OVERDUE]).update(
        state=DeadlineState.MET, closed_at=now or timezone.now()
    )


# --- raising --------------------------------------------------------------------------------------


def _audience(referral: Referral, kind: str):
    wanted = AUDIENCE[kind]
    users = User.objects.filter(pk__in=referral.cidff.jurisdiction.alert_recipients.values("pk"), is_active=True)
    if "coordinators" in wanted:
        users |= referral_coordinators(referral=referral)
    if "evaluator" in wanted:
        users |= User.objects.filter(pk=referral.evaluator_id, is_active=True)
    if "parquet" in wanted:
        users |= referral_prosecutors(referral=referral)
    return users


def _act(deadline: Deadline, referral: Referral, now: datetime.datetime) -> None:
    """The automatic steps: the renewal request at the notice date, the end of the measure at the term."""
    # parquet.services reaches this module through referral_move: imported here, not at the top.
    from parquet.services import attribution_end_at_term, measure_request_reevaluation

    if deadline.kind == DeadlineKind.REEVALUATION and referral.status == Status.ACTIVE:
        measure_request_reevaluation(referral=referral)
    elif deadline.kind == DeadlineKind.TERM:
        attribution = referral.attributions.filter(status=AttributionStatus.ACTIVE).first()
        if attribution is not None:
            attribution_end_at_term(attribution_id=attribution.pk, today=timezone.localtime(now, LOCAL).date())


def deadline_raise(*, deadline_id: int, now: datetime.datetime | None = None) -> bool:
    """Tell the right people (and act, for automatic steps) exactly once. False if there was nothing to do."""
    now = now or timezone.now()
    referral_id = Deadline.objects.filter(pk=deadline_id).values_list("referral_id", flat=True).first()
    if referral_id is None:
        return False
    with transaction.atomic():
        # Same lock order as the transitions (dossier, then its deadlines); a busy dossier waits for the next scan.
        referral = Referral.objects.select_for_update(skip_locked=True).filter(pk=referral_id).first()
        if referral is None:
            return False
        deadline = (
            Deadline.objects.select_for_update()
            .filter(pk=deadline_id, state=DeadlineState.OPEN, raised_at__isnull=True, due_at__lte=now)
            .first()
        )
        if deadline is None:
            return False
        _act(deadline, referral, now)
        if deadline.kind in NOTICE_KIND:
            notify(
                users=_audience(referral, deadline.kind),
                kind=NOTICE_KIND[deadline.kind],
                referral=referral,
                deadline=deadline,
            )
        deadline.refresh_from_db(fields=["state"])
        if deadline.kind in OBLIGATIONS:
            deadline.state = DeadlineState.OVERDUE if deadline.state == DeadlineState.OPEN else deadline.state
        else:
            deadline.state = DeadlineState.MET
            deadline.closed_at = now
        deadline.raised_at = now
        deadline.save(update_fields=["state", "raised_at", "closed_at"])
        audit_record(actor=None, action=f"deadline.{deadline.kind}", obj=deadline)
    return True


def deadlines_scan(*, now: datetime.datetime | None = None) -> int:
    """Raise every open deadline that is due; each in its own transaction, so one failure blocks nothing."""
    now = now or timezone.now()
    raised = 0
    last_id = 0
    while True:
        batch = list(
            Deadline.objects.filter(state=DeadlineState.OPEN, due_at__lte=now, pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:SCAN_BATCH]
        )
        if not batch:
            return raised
        for deadline_id in batch:
            try:
                raised += deadline_raise(deadline_id=deadline_id, now=now)
            except Exception:
                logger.exception("Échéance %s non traitée ; elle sera reprise au prochain passage.", deadline_id)
        last_id = batch[-1]
