"""The dates a dossier asks to watch before any report: acknowledgement, evaluation, the author's release.

Registered with the deadline engine through `referrals.hooks.deadline_rule` (see `referrals.apps`).
"""

import datetime

from core.calendar import add_working_days, local_date, morning
from referrals.models import Urgency
from referrals.workflow import RELEASE_WATCHED, DeadlineKind, Status

AUTHOR_RELEASE_DAYS = (15, 7, 1)


def evaluation_delay(referral) -> datetime.timedelta:
    """The convention's delay for the evaluation report: hours when urgent, days otherwise."""
    convention = referral.cidff.jurisdiction
    if referral.urgency == Urgency.URGENT:
        return datetime.timedelta(hours=convention.evaluation_urgent_hours)
    return datetime.timedelta(days=convention.evaluation_days)


def acknowledgement_and_evaluation(referral, now) -> dict:
    convention = referral.cidff.jurisdiction
    wanted = {}
    if referral.status == Status.SUBMITTED and referral.submitted_at:
        due = (
            referral.submitted_at + datetime.timedelta(hours=convention.acknowledgement_urgent_hours)
            if referral.urgency == Urgency.URGENT
            else add_working_days(referral.submitted_at, convention.acknowledgement_working_days)
        )
        wanted[(DeadlineKind.ACKNOWLEDGEMENT, 0)] = (due, None)
    if referral.status in (Status.RECEIVED, Status.EVALUATION) and referral.acknowledged_at:
        wanted[(DeadlineKind.EVALUATION, 0)] = (referral.acknowledged_at + evaluation_delay(referral), None)
    return wanted


def author_release(referral, now) -> dict:
    """J-15, J-7, J-1 before the release; of the reminders already past, only the latest is kept."""
    release = referral.author_release_date
    if referral.status not in RELEASE_WATCHED or not release or release < local_date(now):
        return {}
    wanted, past = {}, None
    for days in AUTHOR_RELEASE_DAYS:
        due = morning(release - datetime.timedelta(days=days))
        if due <= now:
            past = days
        else:
            wanted[(DeadlineKind.AUTHOR_RELEASE, days)] = (due, release)
    if past is not None:
        wanted[(DeadlineKind.AUTHOR_RELEASE, past)] = (morning(release - datetime.timedelta(days=past)), release)
    return wanted
