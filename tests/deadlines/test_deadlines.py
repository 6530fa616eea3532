"""Deadlines opened and closed by the services, raised once by the scan, only to those who may see."""

import datetime

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.utils import timezone

from cidff import services as cidff_services
from core.calendar import add_working_days
from deadlines.models import Deadline
from deadlines.services import deadlines_scan
from notifications.models import Notification
from parquet import services as parquet_services
from referrals import services
from tests.clock import paris
from tests.factories import renewal_report

pytestmark = pytest.mark.django_db


def told(referral, kind) -> list[str]:
    """E-mails of the users notified of `kind` on the dossier (one entry per notification)."""
    return sorted(Notification.objects.filter(referral=referral, kind=kind).values_list("user__email", flat=True))


def deadline(referral, kind) -> Deadline:
    return referral.deadlines.filter(kind=kind).latest("opened_at", "id")


def detained_until(release) -> dict:
    return {
        "last_name": "Durand",
        "first_name": "Marc",
        "relationship": "ex_conjoint",
        "custody_status": "detained",
        "release_date": release,
    }


def scan_at(moment) -> int:
    with time_machine.travel(moment, tick=False):
        return deadlines_scan()


def test_working_days_skip_weekends_and_french_public_holidays():
    assert add_working_days(paris(2026, 11, 27, 10), 1) == paris(2026, 11, 30, 10)  # Friday → Monday
    assert add_working_days(paris(2026, 12, 24, 16, 30), 1) == paris(2026, 12, 28, 16, 30)  # Christmas, weekend
    assert add_working_days(paris(2026, 11, 28, 9), 1) == paris(2026, 11, 30, 9)  # filed on a Saturday


def test_unacknowledged_referral_is_raised_once_to_its_cidff_coordinators(users, make_referral):
    with time_machine.travel(paris(2026, 11, 27, 10), tick=False):
        referral = make_referral("submitted", urgency="normal")
    watched = deadline(referral, "acknowledgement")
    assert watched.state == "open" and watched.due_at == paris(2026, 11, 30, 10)

    scan_at(paris(2026, 11, 30, 9, 59))
    assert told(referral, "acknowledgement_overdue") == []
    scan_at(paris(2026, 11, 30, 10))
    scan_at(paris(2026, 11, 30, 10, 5))  # the next beat tick raises nothing again
    assert told(referral, "acknowledgement_overdue") == [users["coord_sud"].email]
    watched.refresh_from_db()
    assert watched.state == "overdue" and watched.raised_at == paris(2026, 11, 30, 10)

    services.referral_acknowledge(user=users["coord_sud"], referral_id=referral.pk)
    watched.refresh_from_db()
    assert watched.state == "met" and watched.closed_at is not None
    assert deadline(referral, "evaluation").state == "open"


def test_urgent_referral_is_watched_through_the_weekend(make_referral):
    with time_machine.travel(paris(2026, 11, 27, 18), tick=False):
        referral = make_referral("submitted", urgency="urgent")
    assert deadline(referral, "acknowledgement").due_at == paris(2026, 11, 28, 18)  # Saturday, 24 h later
    with time_machine.travel(paris(2026, 11, 28, 9), tick=False):
        services.referral_acknowledge(
            user=referral.cidff.members.get(role="cidff_coordinator"), referral_id=referral.pk
        )
    assert deadline(referral, "evaluation").due_at == paris(2026, 11, 30, 9)  # 48 h


def test_evaluation_delay_follows_the_convention_and_ends_when_the_report_is_sent(world, users, make_evaluation):
    jurisdiction = world.jurisdictions["nanterre"]
    jurisdiction.evaluation_days = 3
    jurisdiction.save()
    with time_machine.travel(paris(2026, 11, 23, 9), tick=False):
        evaluation = make_evaluation("validated", urgency="normal")
    referral = evaluation.referral
    assert deadline(referral, "evaluation").due_at == paris(2026, 11, 26, 9)
    scan_at(paris(2026, 11, 26, 9))
    assert told(referral, "evaluation_overdue") == sorted([users["coord_sud"].email, users["eval1_sud"].email])
    with time_machine.travel(paris(2026, 11, 26, 11), tick=False):
        cidff_services.evaluation_send(user=users["coord_sud"], evaluation_id=evaluation.pk)
    assert deadline(referral, "evaluation").state == "met"
    pending = deadline(referral, "decision")
    assert pending.state == "open" and pending.due_at == paris(2026, 11, 28, 11)


def test_report_waiting_for_a_decision_reminds_the_jurisdictions_prosecutor_only(users, make_evaluation):
    with time_machine.travel(paris(2026, 11, 23, 9), tick=False):
        evaluation = make_evaluation("sent")
    scan_at(paris(2026, 11, 25, 9, 1))
    assert told(evaluation.referral, "decision_pending") == [users["prosecutor_nanterre"].email]
    with time_machine.travel(paris(2026, 11, 25, 10), tick=False):
        parquet_services.decision_create(
            user=users["prosecutor_nanterre"], evaluation_id=evaluation.pk, outcome="granted"
        )
    assert deadline(evaluation.referral, "decision").state == "met"


def handed_over_on_2_november_2026(active):
    """A measure that started on Monday 2 November 2026 (term 2 May 2027), whatever the session's date."""
    with time_machine.travel(paris(2026, 11, 2, 11), tick=True):
        return active(handover_date=datetime.date(2026, 11, 2))


def test_measure_notice_term_and_return_are_raised_in_order(users, active):
    attribution = handed_over_on_2_november_2026(active)
    referral = attribution.referral
    assert attribution.end_date == datetime.date(2027, 5, 2)
    assert deadline(referral, "reevaluation").due_at == paris(2027, 4, 2, 8)
    assert deadline(referral, "term_reminder").due_at == paris(2027, 4, 17, 8)
    assert deadline(referral, "term").due_at == paris(2027, 5, 2, 0)

    # J-30: Vigie opens the re-evaluation itself and tells the CIDFF (the renewal request).
    scan_at(paris(2027, 4, 2, 8))
    referral.refresh_from_db()
    assert referral.status == "reevaluation"
    event = referral.events.get(action="reevaluation_requested")
    assert event.actor is None
    assert told(referral, "reevaluation_due") == sorted([users["coord_sud"].email, users["eval1_sud"].email])

    # J-15: the CIDFF and the parquet are reminded.
    scan_at(paris(2027, 4, 17, 8))
    assert told(referral, "term_approaching") == sorted(
        [users["coord_sud"].email, users["eval1_sud"].email, users["prosecutor_nanterre"].email]
    )

    # The term: the measure ends, the phone is awaited.
    scan_at(paris(2027, 5, 2, 0, 3))
    scan_at(paris(2027, 5, 2, 0, 8))
    referral.refresh_from_db()
    attribution.refresh_from_db()
    assert referral.status == "ended" and attribution.status == "ended"
    assert referral.events.filter(action="term_reached").count() == 1
    assert deadline(referral, "term").state == "met"
    assert users["prosecutor_nanterre"].email in told(referral, "measure_ended")
    returned = deadline(referral, "device_return")
    assert returned.state == "open"

    scan_at(returned.due_at)
    assert told(referral, "device_return_overdue") == [users["coord_sud"].email]
    with time_machine.travel(returned.due_at + datetime.timedelta(hours=1), tick=False):
        parquet_services.attribution_return(
            user=users["coord_sud"],
            attribution_id=attribution.pk,
            returned_on=timezone.localdate(),
            condition="good",
        )
    returned.refresh_from_db()
    assert returned.state == "met"
    assert not referral.deadlines.filter(state__in=["open", "overdue"]).exists()


def test_renewal_replaces_the_term_deadlines_without_doubling_them(users, active):
    attribution = handed_over_on_2_november_2026(active)
    referral = attribution.referral
    with time_machine.travel(paris(2027, 4, 10, 10), tick=False):
        evaluation = renewal_report(referral)
        parquet_services.decision_create(
            user=users["prosecutor_nanterre"], evaluation_id=evaluation.pk, outcome="renewed"
        )
    terms = referral.deadlines.filter(kind="term")
    assert terms.filter(state="open").get().due_at == paris(2027, 11, 2, 0)
    assert terms.filter(state="cancelled").get().due_at == paris(2027, 5, 2, 0)
    assert referral.deadlines.filter(kind="reevaluation", state="open").get().due_at == paris(2027, 10, 3, 8)
    assert deadline(referral, "decision").state == "met"


def test_author_release_reminders_go_to_those_who_may_see_the_dossier(users, make_referral, make_evaluation):
    release = datetime.date(2026, 12, 20)
    with time_machine.travel(paris(2026, 11, 23, 9), tick=False):
        referral = make_referral("submitted", author=detained_until(release))
    reminders = referral.deadlines.filter(kind="author_release").order_by("due_at")
    assert [(d.days_before, d.due_at) for d in reminders] == [
        (15, paris(2026, 12, 5, 8)),
        (7, paris(2026, 12, 13, 8)),
        (1, paris(2026, 12, 19, 8)),
    ]
    scan_at(paris(2026, 12, 5, 8))
    scan_at(paris(2026, 12, 5, 8, 5))
    # Submitted only: the CIDFF coordinators see it; no evaluator yet, and the parquet does not see it.
    assert told(referral, "author_release") == [users["coord_sud"].email]
    scan_at(paris(2026, 12, 13, 8))
    scan_at(paris(2026, 12, 19, 8))
    # One notice per dossier and reason: the J-1 reminder replaced the earlier ones, unread again.
    [notice] = Notification.objects.filter(referral=referral, kind="author_release")
    assert notice.user == users["coord_sud"] and notice.read_at is None
    assert notice.deadline.days_before == 1


def test_late_known_release_raises_only_the_latest_past_reminder(users, make_referral):
    with time_machine.travel(paris(2026, 11, 23, 9), tick=False):
        referral = make_referral("submitted", author=detained_until("2026-11-28"))
    assert sorted(referral.deadlines.filter(kind="author_release").values_list("days_before", flat=True)) == [1, 7]
    scan_at(paris(2026, 11, 23, 9, 5))
    assert told(referral, "author_release") == [users["coord_sud"].email]  # J-7 now, not J-15 and J-7


def test_reservation_watches_the_release_date_the_prosecutor_set(users, decided):
    with time_machine.travel(paris(2026, 11, 23, 9), tick=False):
        decision = decided("reserved", reserved_until=datetime.date(2027, 1, 10))
    referral = decision.referral
    referral.refresh_from_db()
    assert referral.author_release_date == datetime.date(2027, 1, 10)
    open_reminders = referral.deadlines.filter(kind="author_release", state="open")
    assert {d.reference_date for d in open_reminders} == {datetime.date(2027, 1, 10)}
    scan_at(paris(2027, 1, 3, 8))
    assert users["prosecutor_nanterre"].email in told(referral, "author_release")
    assert users["prosecutor_paris"].email not in told(referral, "author_release")


def test_contact_ban_ending_before_the_term_is_watched(users, make_evaluation, stock):
    with time_machine.travel(paris(2026, 11, 2, 11), tick=False):
        evaluation = make_evaluation("sent", eligibility={"ban_expiry": "2027-02-15"})
        decision = parquet_services.decision_create(
            user=users["prosecutor_nanterre"], evaluation_id=evaluation.pk, outcome="granted"
        )
        parquet_services.attribution_handover(
            user=users["coord_sud"],
            decision_id=decision.pk,
            device_id=stock[0].pk,
            handover_date=datetime.date(2026, 11, 2),
            consent=True,
            geolocation_consent=True,
        )
    ban = deadline(evaluation.referral, "contact_ban_end")
    assert ban.reference_date == datetime.date(2027, 2, 15) and ban.due_at == paris(2027, 1, 31, 8)
    scan_at(paris(2027, 1, 31, 8))
    assert users["prosecutor_nanterre"].email in told(evaluation.referral, "contact_ban_ending")


def test_repeated_missed_tests_alert_the_cidff_until_it_reaches_the_beneficiary(users, active):
    attribution = active(handover_date=timezone.localdate() - datetime.timedelta(days=20))
    for hours in (30, 6):
        parquet_services.alert_create(
            user=users["operator"],
            attribution_id=attribution.pk,
            occurred_at=timezone.now() - datetime.timedelta(hours=hours),
            kind="missed_test",
        )
    missed = deadline(attribution.referral, "missed_tests")
    deadlines_scan()
    assert told(attribution.referral, "missed_tests") == sorted([users["coord_sud"].email, users["eval1_sud"].email])
    missed.refresh_from_db()
    assert missed.state == "overdue"
    parquet_services.followup_create(
        user=users["eval1_sud"],
        referral_id=attribution.referral_id,
        date=timezone.localdate(),
        channel="phone",
        notes="Téléphone rechargé.",
    )
    missed.refresh_from_db()
    assert missed.state == "met"


def test_withdrawn_referral_cancels_what_was_watched(users, make_referral):
    referral = make_referral("submitted")
    services.referral_withdraw(user=users["referrer_ccas"], referral_id=referral.pk)
    assert set(referral.deadlines.values_list("state", flat=True)) == {"cancelled"}


def test_extra_alert_recipients_are_told_only_of_dossiers_they_may_see(world, users, make_referral):
    world.jurisdictions["nanterre"].alert_recipients.set([users["coord_nord"], users["supervisor"]])
    with time_machine.travel(paris(2026, 11, 27, 10), tick=False):
        referral = make_referral("submitted", urgency="normal")
    scan_at(paris(2026, 11, 30, 10))
    assert told(referral, "acknowledgement_overdue") == [users["coord_sud"].email]


def test_scan_command_moves_the_clock_and_rejects_a_bad_date(users, make_referral, capsys):
    with time_machine.travel(paris(2026, 11, 27, 10), tick=False):
        referral = make_referral("submitted", urgency="normal")
    call_command("scan_deadlines", "--now", "2026-11-30T10:00:00+01:00")
    assert "signalée" in capsys.readouterr().out
    assert told(referral, "acknowledgement_overdue") == [users["coord_sud"].email]
    with pytest.raises(CommandError):
        call_command("scan_deadlines", "--now", "lundi")
