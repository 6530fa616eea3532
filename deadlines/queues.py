"""The "échéance proche ou dépassée" work queue (registered into referrals.queues by DeadlinesConfig.ready)."""

import datetime

from django.db.models import OuterRef, Q, Subquery

from accounts.models import Role
from deadlines.models import Deadline, DeadlineState
from referrals.queues import Queue

SOON = datetime.timedelta(days=7)
WATCHED = (DeadlineState.OPEN, DeadlineState.OVERDUE)


def near_q(user, now) -> Q:
    """Dossiers with a deadline not met that falls within a week or has passed."""
    near = Deadline.objects.filter(state__in=WATCHED, due_at__lte=now + SOON)
    return Q(pk__in=near.values("referral_id"))  # the few deadlines near: hashed once, not looked up per dossier


def next_due():
    return Subquery(
        Deadline.objects.filter(referral=OuterRef("pk"), state__in=WATCHED)
        .order_by("due_at", "id")
        .values("due_at")[:1]
    )


QUEUE = Queue(
    "echeances",
    "Échéance proche ou dépassée",
    frozenset({Role.CIDFF_COORDINATOR, Role.PROSECUTOR}),
    near_q,
    next_due,
    "Échéance",
    priority=35,  # after the steps that start a dossier moving (acknowledge, assign, second reading, send)
    ahead=True,
    default_sort="depuis",
    description="Dossiers dont une échéance tombe dans les sept jours ou est dépassée (accusé, rapport, décision, "
    "mesure, restitution).",
)
