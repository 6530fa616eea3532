"""Redis stopped while users act: the changes commit, the jobs they owe wait in the outbox, and once Redis is
back every e-mail leaves exactly once (a real worker and a real beat, on a Redis server of the test's own)."""

import pytest

from core.models import Job
from notifications.models import Notification
from referrals import services
from tests.conftest import CeleryProcesses, celery_on
from tests.faults.conftest import jobs_all_done, message_ids

pytestmark = [pytest.mark.django_db(transaction=True)]
SUBMISSIONS = 4
DELIVERY_SECONDS = 90


def test_jobs_owed_while_redis_is_down_are_delivered_once_it_is_back(own_redis, tmp_path, users, make_referral):
    drafts = [make_referral("draft") for _ in range(SUBMISSIONS)]
    processes = CeleryProcesses(own_redis.url, tmp_path)
    with celery_on(own_redis.url):
        try:
            processes.start("worker", "--pool=solo")
            processes.start("beat", VIGIE_JOB_RELAY_SECONDS="1")
            own_redis.stop()
            for referral in drafts:  # each submission tells the coordination, by notification and e-mail
                services.referral_submit(user=users["referrer_ccas"], referral_id=referral.pk)
            owed = Job.objects.filter(task="notifications.tasks.send_notification_email")
            assert owed.count() >= SUBMISSIONS and not owed.filter(sent_at__isnull=False).exists()
            own_redis.start()
            drained = jobs_all_done(within=DELIVERY_SECONDS)
        finally:
            processes.stop()
    assert drained, "des tâches dues n'ont jamais été faites"
    notifications = Notification.objects.filter(referral__in=drafts)
    assert notifications.count() == owed.count()
    assert not notifications.filter(emailed_at__isnull=True).exists()
    identities = message_ids(processes.mail_dir)
    assert sorted(identities) == sorted(f"<notification-{n.pk}@127.0.0.1>" for n in notifications), (
        "un e-mail perdu ou envoyé deux fois"
    )
