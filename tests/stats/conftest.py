"""A small world of dossiers at every stage, built by the services, with counts known in advance."""

import datetime

import pytest
from django.utils import timezone

from deadlines.models import Deadline
from parquet import services
from referrals.models import Referral


@pytest.fixture
def figures(users, make_referral, make_evaluation, decided, active, stock):
    """Nanterre: 6 submitted dossiers (CIDFF 92 Sud 5, 92 Nord 1) and a draft; Paris: 1 submitted dossier.

    CIDFF 92 Sud: 4 reports sent (3 « Danger grave », 1 « Danger à surveiller »), 1 refusal, 2 grants
    both handed over, the second phone withdrawn (moved), 1 real alert with police and arrest, 1 false
    manipulation. Overdue deadlines: 1 in Nanterre (92 Sud), 1 in Paris.
    """
    make_referral("draft")
    submitted = make_referral("submitted")
    make_referral("received", cidff="cidff92nord", evaluator="eval_nord")
    paris = make_referral("submitted", cidff="cidffparis")
    make_evaluation("sent", yes=())
    decided("refused")
    kept = active()
    withdrawn = active(device=stock[1])
    operator, now = users["operator"], timezone.now()
    services.alert_create(
        user=operator,
        attribution_id=kept.pk,
        occurred_at=now - datetime.timedelta(minutes=5),
        kind="real_alert",
        police_intervention=True,
        arrest=True,
    )
    services.alert_create(user=operator, attribution_id=withdrawn.pk, occurred_at=now, kind="false_manipulation")
    services.attribution_withdraw(user=users["prosecutor_nanterre"], attribution_id=withdrawn.pk, reason="moved")
    for referral in (submitted, paris):
        Deadline.objects.create(referral=referral, kind="acknowledgement", due_at=now, state="overdue")
    # the referrer's function is drawn at random by the demo payload: fix it for exact counts
    Referral.objects.exclude(pk=submitted.pk).update(referrer_function="travailleur_social")
    Referral.objects.filter(pk=submitted.pk).update(referrer_function="medecin")
    return {"kept": kept, "withdrawn": withdrawn, "paris": paris}
