"""Deadlines of a dossier: synced by the services at every transition, raised once by the beat scan.

The dates are stored (never long Celery ETAs), so a restarted worker or a moved convention
setting loses nothing. Raising takes the dossier's row lock first, like every transition: a
deadline is never raised while a transition is closing it, and two overlapping scans (or a scan
retried after a killed worker) raise it exactly once.
"""

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from deadlines.models import Deadline, DeadlineState
from notifications.services import notify
from referrals import hooks
from referrals.models import Referral
from referrals.selectors import audience_users
from referrals.workflow import (
    BENEFICIARY_REACHED,
    MEASURE_STATES,
    MISSED_TEST,
    Audience,
    DeadlineKind,
    NotificationKind,
)

logger = logging.getLogger(__name__)

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
CIDFF, PARQUET = (Audience.COORDINATORS, Audience.EVALUATOR), (Audience.PARQUET,)
AUDIENCE = {
    DeadlineKind.ACKNOWLEDGEMENT: (Audience.COORDINATORS,),
    DeadlineKind.EVALUATION: CIDFF,
    DeadlineKind.DECISION: PARQUET,
    DeadlineKind.REEVALUATION: CIDFF,
    DeadlineKind.TERM_REMINDER: CIDFF + PARQUET,
    DeadlineKind.DEVICE_RETURN: (Audience.COORDINATORS,),
    DeadlineKind.AUTHOR_RELEASE: CIDFF + PARQUET,
    DeadlineKind.CONTACT_BAN_END: CIDFF + PARQUET,
    DeadlineKind.MISSED_TESTS: CIDFF,
}
# Kinds opened by a fact rather than by a rule, and the states they live in.
FACT_KINDS = {DeadlineKind.MISSED_TESTS: MEASURE_STATES}


def _wanted(referral: Referral, now: datetime.datetime) -> dict:
    """{(kind, days_before): (due_at, reference_date)}: what the registered rules ask for the dossier now."""
    wanted = {}
    for rule in hooks.deadline_rules():
        wanted.update(rule(referral, now))
    return wanted


def deadlines_sync(*, referral: Referral, transition=None, now: datetime.datetime | None = None) -> None:
    """Open what the dossier now asks to watch; close what it no longer does — met when the transition
    that moved it fulfils that kind (the table's `meets`), cancelled otherwise.

    Registered as a transition hook: runs inside the transition's transaction, under the dossier's lock.
    A reminder already raised for the same date is never opened again.
    """
    now = now or timezone.now()
    wanted = _wanted(referral, now)
    met_kinds = transition.meets if transition is not None else ()
    watched = list(referral.deadlines.select_for_update().filter(state__in=[DeadlineState.OPEN, DeadlineState.OVERDUE]))
    for deadline in watched:
        key = (deadline.kind, deadline.days_before)
        target = wanted.get(key)
        if deadline.kind in FACT_KINDS:
            if referral.status in FACT_KINDS[deadline.kind]:
                continue
        elif target is not None and (deadline.state == DeadlineState.OVERDUE or target[0] == deadline.due_at):
            wanted.pop(key)
            continue
        deadline.state = DeadlineState.MET if deadline.kind in met_kinds else DeadlineState.CANCELLED
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


def deadlines_after_transition(*, referral, transition, actor) -> None:
    deadlines_sync(referral=referral, transition=transition)


def deadline_missed_tests_check(*, attribution, now: datetime.datetime | None = None) -> bool:
    """After a missed test: open the alert when the convention's count is reached over 30 days."""
    now = now or timezone.now()
    convention = attribution.referral.cidff.jurisdiction
    missed = attribution.alerts.filter(kind=MISSED_TEST, occurred_at__gte=now - MISSED_TESTS_WINDOW).count()
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


def deadlines_on_fact(*, referral, fact: str, **data) -> None:
    """The facts of the measure: a missed device test may open the alert; reaching the beneficiary meets it."""
    if fact == MISSED_TEST:
        deadline_missed_tests_check(attribution=data["attribution"])
    elif fact == BENEFICIARY_REACHED:
        deadlines_fulfil(referral=referral, kind=DeadlineKind.MISSED_TESTS)


# --- raising --------------------------------------------------------------------------------------


def _audience(referral: Referral, kind: str):
    extra = User.objects.filter(pk__in=referral.cidff.jurisdiction.alert_recipients.values("pk"), is_active=True)
    return extra | audience_users(referral=referral, audiences=AUDIENCE[kind])


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
        step = hooks.step_for(deadline.kind)
        if step is not None:
            step(referral=referral, now=now)
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
