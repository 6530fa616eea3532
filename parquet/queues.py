"""The parquet's work queues (registered into referrals.queues by ParquetConfig.ready): its decision inbox."""

from django.db.models import Exists, OuterRef, Q, Subquery

from accounts.models import Role
from cidff.models import Evaluation, EvaluationKind, EvaluationStatus
from cidff.selectors import evaluations_sent_latest_first
from parquet.models import Decision, Outcome
from parquet.selectors import DECIDING_STATES
from referrals.policies import referral_policy
from referrals.queues import Queue, status_since
from referrals.workflow import Status

PARQUET = frozenset({Role.PROSECUTOR})


def _undecided(**filters):
    """Sent reports of the dossier with no decision yet (a reservation does not decide)."""
    decided = Decision.objects.filter(evaluation=OuterRef("pk")).exclude(outcome=Outcome.RESERVED)
    return Evaluation.objects.filter(referral=OuterRef("pk"), status=EvaluationStatus.SENT, **filters).exclude(
        Exists(decided)
    )


def to_decide_q(user, now) -> Q:
    """What `parquet.selectors.decision_inbox` lists: a report awaits this parquet's decision (a re-evaluation
    only once its renewal report is sent)."""
    # cheapest test first: PostgreSQL evaluates a counter's conditions in this order, row by row
    return (
        Q(status__in=DECIDING_STATES)
        & (
            Q(Exists(_undecided(kind=EvaluationKind.RENEWAL)))
            | (~Q(status=Status.REEVALUATION) & Q(Exists(_undecided())))
        )
        & referral_policy.action_q(user, "decide")
    )


def last_report_sent_at():
    return Subquery(
        evaluations_sent_latest_first(Evaluation.objects.filter(referral=OuterRef("pk"))).values("sent_at")[:1]
    )


QUEUES = [
    Queue(
        "a-decider",
        "À décider",
        PARQUET,
        to_decide_q,
        last_report_sent_at,
        "En attente depuis",
        priority=10,
        description="Rapports d'évaluation transmis par les CIDFF de la juridiction qui attendent votre décision.",
    ),
    Queue(
        "reserve",
        "Téléphone réservé",
        PARQUET,
        lambda user, now: Q(status=Status.RESERVED),
        status_since,
        "Réservé depuis",
        priority=30,
        within="a-decider",
        description="Téléphones réservés dans l'attente de la libération de l'auteur : à décider à sa libération.",
    ),
    Queue(
        "mesures",
        "Mesures en cours",
        PARQUET,
        lambda user, now: Q(status__in=(Status.GRANTED, Status.ACTIVE, Status.REEVALUATION, Status.ENDED))
        & ~to_decide_q(user, now),
        status_since,
        "Dans cet état depuis",
        priority=40,
        description="Téléphones attribués : remise, mesure en cours, réévaluation, restitution.",
    ),
]
