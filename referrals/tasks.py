"""Celery wrappers: ids in, nothing personal in the arguments; the services do the work."""

from celery import shared_task

from referrals import services


@shared_task(acks_late=True)
def notify_referral_submitted(referral_id: int) -> int:
    return services.referral_notify_submitted(referral_id=referral_id)


@shared_task(acks_late=True)
def notify_referral_acknowledged(referral_id: int) -> int:
    return services.referral_notify_acknowledged(referral_id=referral_id)
