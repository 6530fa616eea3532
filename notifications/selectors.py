from dataclasses import dataclass

from django.db.models import Count, Max, Q, QuerySet

from accounts.models import Role
from core.fields import joined_encrypted_field_names
from notifications.models import Notification, NotificationPreference
from referrals.workflow import NotificationKind


def _with_dossier(notifications: QuerySet[Notification]) -> QuerySet[Notification]:
    """Each notification with its deadline and its dossier, of which it shows the reference alone: nothing of the
    dossier is decrypted."""
    rows = notifications.select_related("referral", "deadline")
    return rows.defer(*joined_encrypted_field_names(rows))


def notification_list(*, user) -> QuerySet[Notification]:
    return _with_dossier(Notification.objects.filter(user=user)).order_by("-id")


def notification_inbox(*, user, unread_only=False, kind="", reference="") -> QuerySet[Notification]:
    """The user's own notifications, filtered: unread only, one kind, one dossier (its exact reference)."""
    notifications = Notification.objects.filter(user=user)
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    if kind:
        notifications = notifications.filter(kind=kind)
    if reference:
        notifications = notifications.filter(referral__reference=reference.strip().upper())
    return notifications


@dataclass(frozen=True)
class InboxCounts:
    unread: int
    total: int
    kinds: list[tuple[str, str, int, int]]  # (kind, label, unread, total), only the kinds the user has


def inbox_counts(*, user) -> InboxCounts:
    """Unread and total counts, overall and per kind, in one query."""
    rows = (
        Notification.objects.filter(user=user)
        .order_by()
        .values("kind")
        .annotate(total=Count("id"), unread=Count("id", filter=Q(read_at__isnull=True)))
    )
    labels = dict(NotificationKind.choices)
    kinds = sorted(
        ((row["kind"], labels.get(row["kind"], row["kind"]), row["unread"], row["total"]) for row in rows),
        key=lambda entry: entry[1],
    )
    return InboxCounts(unread=sum(entry[2] for entry in kinds), total=sum(entry[3] for entry in kinds), kinds=kinds)


def inbox_dossiers(notifications: QuerySet[Notification]) -> QuerySet:
    """One row per dossier of `notifications` (referral_id, last, unread), the most recently told first:
    the unit the inbox paginates."""
    return (
        notifications.order_by()
        .values("referral_id")
        .annotate(last_at=Max("created_at"), last_id=Max("id"), unread=Count("id", filter=Q(read_at__isnull=True)))
        .order_by("-last_at", "-last_id")
    )


@dataclass(frozen=True)
class DossierGroup:
    referral_id: int
    reference: str
    unread: int
    notifications: list[Notification]


def inbox_groups(notifications: QuerySet[Notification], dossiers) -> list[DossierGroup]:
    """The notifications of the page's dossiers, grouped by dossier (one query, whatever the page length)."""
    rows = list(dossiers)
    ids = [row["referral_id"] for row in rows]
    by_dossier: dict[int, list[Notification]] = {pk: [] for pk in ids}
    for notification in _with_dossier(notifications.filter(referral_id__in=ids)).order_by("-created_at", "-id"):
        by_dossier[notification.referral_id].append(notification)
    return [
        DossierGroup(
            referral_id=row["referral_id"],
            reference=by_dossier[row["referral_id"]][0].referral.reference if by_dossier[row["referral_id"]] else "",
            unread=row["unread"],
            notifications=by_dossier[row["referral_id"]],
        )
        for row in rows
    ]


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
