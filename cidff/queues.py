"""The work queues only the evaluations can tell (registered into referrals.queues by CidffConfig.ready)."""

from django.db.models import Exists, OuterRef, Q, Subquery

from accounts.models import Role
from cidff.models import OPEN_EVALUATION_STATUSES, Evaluation, EvaluationKind, EvaluationStatus
from referrals.queues import COORDINATION, Queue, status_since
from referrals.workflow import Status

EVALUATOR = frozenset({Role.EVALUATOR})


def with_evaluation(**filters) -> Q:
    """Dossiers with an evaluation matching `filters`: one set of dossier ids, hashed once by PostgreSQL,
    rather than a lookup per dossier (for the few open evaluations, not for the many sent ones)."""
    return Q(pk__in=Evaluation.objects.filter(**filters).values("referral_id"))


def _returned_q(user, now):
    """Draft evaluations the second reading sent back, not yet finalised again."""
    return with_evaluation(status=EvaluationStatus.DRAFT, returned_at__isnull=False)


def _to_evaluate_q(user, now):
    """Assigned to her, no evaluation open, and (in a re-evaluation) no renewal report awaiting the decision."""
    # sent reports are many: looked up for her few dossiers only, not hashed whole
    awaiting = Evaluation.objects.filter(
        referral=OuterRef("pk"), kind=EvaluationKind.RENEWAL, status=EvaluationStatus.SENT, decision__isnull=True
    )
    return (
        Q(evaluator=user, status__in=(Status.EVALUATION, Status.REEVALUATION))
        & ~with_evaluation(status__in=OPEN_EVALUATION_STATUSES)
        & ~(Q(status=Status.REEVALUATION) & Q(Exists(awaiting)))
    )


def _in_progress_q(user, now):
    return Q(evaluator=user) & with_evaluation(status__in=OPEN_EVALUATION_STATUSES) & ~_returned_q(user, now)


def _open_since(field):
    open_evaluations = Evaluation.objects.filter(referral=OuterRef("pk"), status__in=OPEN_EVALUATION_STATUSES)
    return lambda: Subquery(open_evaluations.values(field)[:1])


QUEUES = [
    Queue(
        "seconde-lecture",
        "Seconde lecture",
        COORDINATION,
        lambda user, now: with_evaluation(status=EvaluationStatus.FINALIZED),
        _open_since("finalized_at"),
        "Finalisée depuis",
        priority=25,
        within="en-evaluation",
        description="Évaluations finalisées qui attendent votre seconde lecture (valider ou renvoyer).",
    ),
    Queue(
        "a-transmettre",
        "Rapport à transmettre",
        COORDINATION,
        lambda user, now: with_evaluation(status=EvaluationStatus.VALIDATED),
        _open_since("validated_at"),
        "Validée depuis",
        priority=30,
        within="en-evaluation",
        description="Évaluations validées dont le rapport est prêt à partir au parquet.",
    ),
    Queue(
        "renvoyees",
        "Renvoyées",
        EVALUATOR,
        _returned_q,
        _open_since("returned_at"),
        "Renvoyée depuis",
        priority=10,
        description="Évaluations que la seconde lecture vous a renvoyées, à reprendre.",
    ),
    Queue(
        "a-evaluer",
        "À évaluer",
        EVALUATOR,
        _to_evaluate_q,
        status_since,
        "Depuis l'attribution",
        priority=20,
        description="Dossiers qui vous sont attribués et dont l'évaluation n'est pas commencée.",
    ),
    Queue(
        "en-cours",
        "En cours",
        EVALUATOR,
        _in_progress_q,
        _open_since("created_at"),
        "Commencée depuis",
        priority=30,
        description="Vos évaluations commencées (en saisie, finalisées ou validées).",
    ),
]
