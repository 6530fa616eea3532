from django.db.models import QuerySet

from accounts.models import Role
from notifications.models import Notification, NotificationPreference
from referrals.workflow import NotificationKind


def notification_list(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).select_related("referral", "deadline").order_by("-id")


def unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


# What the CIDFF follows on its dossiers (evaluators and coordinators alike) …
CIDFF_KINDS = [
    NotificationKind.EVALUATION_OVERDUE,
    NotificationKind.DECISION_TAKEN,
    NotificationKind.REEVALUATION_DUE,
    NotificationKind.TERM_APPROACHING,
    NotificationKind.MEASURE_WITHDRAWN,
    NotificationKind.MEASURE_ENDED,
    NotificationKind.ALERT_REPORTED,
    NotificationKind.MISSED_TESTS,
    NotificationKind.AUTHOR_RELEASE,
    NotificationKind.CONTACT_BAN_ENDING,
]
# … and the kinds each role can receive: the preferences page offers these (every kind for the others).
ROLE_KINDS = {
    Role.REFERRER: [NotificationKind.REFERRAL_ACKNOWLEDGED, NotificationKind.OUTCOME_NOTICE],
    Role.EVALUATOR: [NotificationKind.EVALUATION_RETURNED, *CIDFF_KINDS],
    Role.CIDFF_COORDINATOR: [
        NotificationKind.REFERRAL_SUBMITTED,
        NotificationKind.ACKNOWLEDGEMENT_OVERDUE,
        NotificationKind.EVALUATION_FINALIZED,
        NotificationKind.DEVICE_RETURN_OVERDUE,
        *CIDFF_KINDS,
    ],
    Role.PROSECUTOR: [
        NotificationKind.REPORT_SENT,
        NotificationKind.DECISION_PENDING,
        NotificationKind.TERM_APPROACHING,
        NotificationKind.MEASURE_ENDED,
        NotificationKind.AUTHOR_RELEASE,
        NotificationKind.CONTACT_BAN_ENDING,
    ],
    Role.OPERATOR: [],
}


def notification_preferences(*, user) -> list[tuple[str, str, bool]]:
    """(kind, label, e-mail copy wanted) for every kind the user's role can receive; e-mail is on by default."""
    kinds = ROLE_KINDS.get(user.role, list(NotificationKind))
    declined = set(NotificationPreference.objects.filter(user=user, email=False).values_list("kind", flat=True))
    return [(kind.value, kind.label, kind.value not in declined) for kind in kinds]
