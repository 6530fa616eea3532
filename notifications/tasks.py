"""Celery wrapper: the notification id in, nothing personal in the arguments."""

from celery import shared_task

from notifications import services


@shared_task(acks_late=True)
def send_notification_email(notification_id: int) -> bool:
    return services.notification_send_email(notification_id=notification_id)
