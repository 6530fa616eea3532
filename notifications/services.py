"""Telling people: an in-app notification and an e-mail copy with no personal data."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from core.exceptions import NotFound
from core.jobs import enqueue_on_commit
from notifications.models import Notification, NotificationPreference
from notifications.selectors import notification_preferences
from referrals.selectors import audience_users, referral_viewers


def notify(*, users, kind: str, referral, deadline=None) -> list[Notification]:
    """Notify those of `users` who may see the dossier (nobody hears of a dossier they cannot see).

    One notification per user, dossier and kind: a new notice (the next reminder of a deadline, another alert)
    updates the existing row — new date and deadline, unread again, e-mail copy due again — in one upsert.
    The e-mail copy goes to those who did not turn it off for this kind.
    """
    allowed = referral_viewers(referral=referral).filter(pk__in=[u.pk for u in users])
    now = timezone.now()
    created = Notification.objects.bulk_create(
        [Notification(user=u, kind=kind, referral=referral, deadline=deadline, created_at=now) for u in allowed],
        update_conflicts=True,
        unique_fields=["user", "referral", "kind"],
        update_fields=["deadline", "created_at", "read_at", "emailed_at"],
    )
    declined = set(
        NotificationPreference.objects.filter(
            user__in=[n.user_id for n in created], kind=kind, email=False
        ).values_list("user_id", flat=True)
    )
    for notification in created:
        if notification.user_id not in declined:
            enqueue_on_commit("notifications.tasks.send_notification_email", notification.pk)
    return created


def notice_deliver(*, referral, kind: str, audiences, users, deadline=None) -> None:
    """The workflow's notice hook: the audiences resolved on the dossier, plus any named users."""
    recipients = audience_users(referral=referral, audiences=audiences)
    if users:
        recipients |= User.objects.filter(pk__in=[user.pk for user in users])
    notify(users=recipients, kind=kind, referral=referral, deadline=deadline)


def notification_send_email(*, notification_id: int) -> bool:
    """Send the e-mail copy once (idempotent): reference, kind and link only."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update()
            .select_related("user", "referral")
            .filter(pk=notification_id, emailed_at__isnull=True, user__is_active=True)
            .first()
        )
        if notification is None:
            return False
        reference = notification.referral.reference
        body = render_to_string(
            "emails/notification.txt",
            {
                "kind": notification.get_kind_display(),
                "reference": reference,
                "url": settings.VIGIE_BASE_URL.rstrip("/") + reverse("notification-open", args=[notification.pk]),
            },
        )
        EmailMessage(
            f"[Vigie] {notification.get_kind_display()} — {reference}",
            body,
            to=[notification.user.email],
            # One identity per notification: should a worker die between the sending and the commit, the second
            # copy carries the same Message-ID, which mail systems recognise as the same message.
            headers={"Message-ID": f"<notification-{notification.pk}@{urlsplit(settings.VIGIE_BASE_URL).hostname}>"},
        ).send()
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True


def notification_mark_read(*, user, notification_id) -> Notification:
    notification = Notification.objects.filter(pk=notification_id, user=user).select_related("referral").first()
    if notification is None:
        raise NotFound("Notification introuvable.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notification_mark_all_read(*, user, kind: str = "", referral_id: int | None = None) -> int:
    """Mark the user's own unread notifications read (optionally only one kind or one dossier); how many."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if kind:
        unread = unread.filter(kind=kind)
    if referral_id is not None:
        unread = unread.filter(referral_id=referral_id)
    return unread.update(read_at=timezone.now())


def notification_preferences_set(*, user, emails) -> None:
    """Save the user's e-mail choice per kind; nothing is saved if any entry is invalid."""
    if not isinstance(emails, dict):
        raise ValidationError({"emails": ["Un objet {type: true|false} est attendu."]})
    offered = {kind for kind, _, _ in notification_preferences(user=user)}
    errors = [f"{kind} : type de notification inconnu." for kind in emails if kind not in offered]
    errors += [f"{kind} : true ou false attendu." for kind, value in emails.items() if not isinstance(value, bool)]
    if errors:
        raise ValidationError({"emails": errors})
    with transaction.atomic():
        for kind, wanted in emails.items():
            NotificationPreference.objects.update_or_create(user=user, kind=kind, defaults={"email": wanted})
