"""Exactly once under real conditions: overlapping scans, a worker killed mid-raise, a real beat tick."""

import datetime
import time

import psycopg
import pytest
import redis
import time_machine
from django.db import connection
from django.utils import timezone

from deadlines.models import Deadline
from deadlines.services import deadlines_scan
from deadlines.tasks import scan_deadlines
from notifications.models import Notification
from tests.clock import paris
from tests.deadlines.test_deadlines import detained_until
from tests.referrals.test_concurrency import run_concurrently

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(predicate, timeout=90, message="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"Attente dépassée : {message}")


def test_overlapping_scans_raise_each_deadline_once(users, make_referral):
    with time_machine.travel(paris(2026, 11, 27, 10), tick=False):  # a Friday: due on Monday at 10:00
        referrals = [make_referral("submitted", urgency="normal") for _ in range(4)]
    moment = paris(2026, 11, 30, 10)
    results = run_concurrently(3, lambda i: deadlines_scan(now=moment))
    assert all(isinstance(result, int) for result in results), results
    assert sum(results) == Deadline.objects.filter(raised_at=moment).count() >= 4
    for referral in referrals:
        assert list(
            Notification.objects.filter(referral=referral, kind="acknowledgement_overdue").values_list(
                "user__email", flat=True
            )
        ) == [users["coord_sud"].email]


def _other_connection(**options):
    db = connection.settings_dict
    return psycopg.connect(host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], **options)


def test_a_worker_killed_mid_raise_leaves_nothing_and_the_next_scan_raises_once(
    users, make_referral, broker_url, celery_processes
):
    with time_machine.travel(timezone.now() - datetime.timedelta(days=30), tick=False):
        referral = make_referral("submitted", urgency="normal")
    watched = referral.deadlines.get(kind="acknowledgement")
    assert watched.due_at < timezone.now()
    redis.Redis.from_url(broker_url).flushdb()  # only the scan in the queue: the submission e-mail is not the point

    # Hold the notifications table: the worker's raise stops at its INSERT, in the middle of its transaction.
    with _other_connection() as locker, _other_connection(autocommit=True) as observer:
        locker.execute("LOCK TABLE notifications_notification IN ACCESS EXCLUSIVE MODE")
        worker = celery_processes.start("worker", "--pool=solo")
        scan_deadlines.delay()
        blocked_pid = wait_for(
            lambda: observer.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE %s",
                ['%"notifications_notification"%'],  # its upsert (or a read of the inbox before it)
            ).fetchone(),
            message="le worker bloqué au milieu de l'échéance",
        )[0]
        worker.kill()  # SIGKILL: no clean shutdown, the transaction is never committed
        worker.wait(timeout=30)
        locker.rollback()
        wait_for(
            lambda: not observer.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [blocked_pid]).fetchone(),
            message="la fin de la connexion du worker tué",
        )

    watched.refresh_from_db()
    assert watched.state == "open" and watched.raised_at is None
    assert not Notification.objects.filter(referral=referral, kind="acknowledgement_overdue").exists()

    deadlines_scan()  # the next beat tick
    deadlines_scan()
    watched.refresh_from_db()
    assert watched.state == "overdue"
    assert list(
        Notification.objects.filter(referral=referral, kind="acknowledgement_overdue").values_list(
            "user__email", flat=True
        )
    ) == [users["coord_sud"].email]


def test_a_real_beat_tick_raises_the_release_reminder_once_through_a_real_worker(
    users, make_referral, celery_processes
):
    release = timezone.localdate() + datetime.timedelta(days=10)  # J-15 is past: raised at the next tick
    referral = make_referral("submitted", author=detained_until(release))
    celery_processes.start("worker", "--pool=solo")
    celery_processes.start("beat", VIGIE_DEADLINE_SCAN_SECONDS="1")
    reminders = Notification.objects.filter(referral=referral, kind="author_release")
    wait_for(lambda: reminders.filter(emailed_at__isnull=False).exists(), message="le rappel envoyé par le worker")
    time.sleep(4)  # several more beat ticks
    assert list(reminders.values_list("user__email", flat=True)) == [users["coord_sud"].email]
    assert referral.deadlines.get(kind="author_release", days_before=15).state == "met"

    mails = "".join(path.read_text() for path in celery_processes.mail_dir.glob("*.log"))
    assert "Libération de l'auteur prochaine" in mails and referral.reference in mails
    for secret in ("Durand", "Marc", *referral.victim.values()):
        if isinstance(secret, str) and len(secret) > 3:
            assert secret not in mails
