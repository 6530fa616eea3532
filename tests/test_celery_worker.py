"""A real Celery worker against Redis sends the notification e-mails (no personal data)."""

import time

import pytest

from referrals import services


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_submission_e_mail_goes_through_a_real_worker(users, make_referral, real_worker):
    referral = make_referral("draft")
    services.referral_submit(user=users["referrer_ccas"], referral_id=referral.pk)
    deadline = time.monotonic() + 60
    files = []
    while time.monotonic() < deadline and not files:
        files = list(real_worker.glob("*.log")) if real_worker.exists() else []
        time.sleep(0.5)
    assert files, "le worker n'a envoyé aucun e-mail en 60 s"
    message = files[0].read_text()
    assert referral.reference in message and users["coord_sud"].email in message
    assert referral.victim["last_name"] not in message and referral.author["last_name"] not in message
