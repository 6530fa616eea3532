"""Beat killed across a deadline, and two beats started by mistake: every due deadline raised exactly once."""

import datetime
import time

import pytest
import time_machine
from django.utils import timezone

from deadlines.models import Deadline
from notifications.models import Notification
from tests.deadlines.test_scan_processes import wait_for
from tests.faults.conftest import message_ids

pytestmark = pytest.mark.django_db(transaction=True)
SCAN = {"VIGIE_DEADLINE_SCAN_SECONDS": "1"}


def test_a_killed_beat_and_a_second_beat_raise_each_deadline_once(users, make_referral, celery_processes, tmp_path):
    with time_machine.travel(timezone.now() - datetime.timedelta(days=30), tick=False):
        referrals = [make_referral("submitted", urgency="normal") for _ in range(4)]
    acknowledgements = Deadline.objects.filter(referral__in=referrals, kind="acknowledgement")
    # half already due, half falling due while the first beat is down
    acknowledgements.filter(referral__in=referrals[2:]).update(due_at=timezone.now() + datetime.timedelta(seconds=5))
    celery_processes.start("worker", "--pool=solo")
    first = celery_processes.start("beat", **SCAN)
    celery_processes.start("beat", VIGIE_BEAT_SCHEDULE_FILE=str(tmp_path / "second-beat"), **SCAN)  # by mistake
    time.sleep(2)
    first.kill()  # SIGKILL, across the deadline
    first.wait(timeout=30)
    time.sleep(6)
    celery_processes.start("beat", **SCAN)
    overdue = Notification.objects.filter(referral__in=referrals, kind="acknowledgement_overdue")
    wait_for(
        lambda: acknowledgements.filter(state="overdue").count() == len(referrals)
        and overdue.count() >= len(referrals)
        and not overdue.filter(emailed_at__isnull=True).exists(),
        message="chaque échéance levée et son e-mail envoyé",
    )
    time.sleep(4)  # more ticks of both beats
    for referral in referrals:
        assert list(overdue.filter(referral=referral).values_list("user__email", flat=True)) == [
            users["coord_sud"].email
        ]
    identities = message_ids(celery_processes.mail_dir)
    for notification in overdue:
        assert sum(identity.startswith(f"<notification-{notification.pk}@") for identity in identities) == 1
