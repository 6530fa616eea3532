"""Work queues: the dossier lists sorted by what the person must do next.

A `Queue` is a named filter on the dossiers a role sees (`q(user=, now=)`), with the instant its
"Depuis…" column counts from (`since()`, an SQL expression: the submission for acknowledgement,
the assignment for an evaluation…). Referrals registers the queues it can tell from the dossier
alone (states, events); the apps above register theirs in `AppConfig.ready()` —
cidff (second reading, report to send, evaluator's queues), parquet (to decide, reserved),
deadlines (deadline near or passed) — so referrals never imports them.

A queue registered `within` another takes its rows out of it (second reading leaves "en
évaluation"), so the queues say one next step each. `referrals.selectors.referral_work_queues`
counts them all in one query and lists the chosen one.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import F, Q

from accounts.models import Role
from referrals.workflow import Status

ALL = "tous"
SINCE = "since"  # the annotation the lists sort and show the "Depuis…" column by

# What a queue may hold. Most hold open dossiers only: they are counted among the open dossiers, a fifth of the
# base after three years; the closed ones (and all of them) are counted from the visible total.
OPEN, CLOSED, EVERY = "open", "closed", "every"
OPEN_STATES = tuple(status for status in Status.values if status != Status.CLOSED)


@dataclass(frozen=True)
class Queue:
    code: str  # in the address: ?file=<code>
    label: str
    roles: frozenset
    q: Callable  # q(user=, now=) -> Q, among the dossiers the user sees
    since: Callable  # since() -> an expression (datetime) for the "Depuis…" column
    since_label: str = "Depuis"
    priority: int = 50  # the default queue is the non-empty one of lowest priority
    within: str = ""  # a parent queue its rows are taken out of
    ahead: bool = False  # `since` is a due date: "dans 3 jours" / "dépassée depuis 2 jours"
    may_default: bool = True  # False: never opened by default (closed dossiers, all dossiers)
    default_sort: str = "urgence"  # see referrals.selectors.QUEUE_SORTS
    description: str = ""
    holds: str = OPEN  # OPEN: never a closed dossier; CLOSED: closed dossiers only; EVERY: any dossier


_queues: dict[str, Queue] = {}


def register_queue(queue: Queue) -> Queue:
    """Add (or replace, by code) a queue; called from the apps' `ready()`."""
    _queues[queue.code] = queue
    return queue


def queue_codes() -> list[str]:
    """Every registered queue's code (the API's enum: apps have registered theirs once Django is set up)."""
    return sorted(_queues)


def queues_for(user) -> list[Queue]:
    """The queues of the user's role, most urgent first."""
    return sorted((queue for queue in _queues.values() if user.role in queue.roles), key=lambda q: q.priority)


def queue_q(queue: Queue, *, user, now, among: list[Queue]) -> Q:
    """The queue's rows, less those its sub-queues (among `among`) take; never a closed dossier in an OPEN queue."""
    match = queue.q(user=user, now=now)
    if queue.holds == OPEN:
        match &= Q(status__in=OPEN_STATES)
    for child in among:
        if child.within == queue.code:
            match &= ~child.q(user=user, now=now)
    return match


# --- the queues referrals can tell by itself ----------------------------------------------------------


def status_since():
    """When the dossier entered its current state (kept on the dossier by every transition)."""
    return F("status_changed_at")


def _states(*states):
    return lambda user, now: Q(status__in=states)


def _field(name):
    return lambda: F(name)


STAFF = frozenset({Role.CIDFF_COORDINATOR, Role.PROSECUTOR, Role.SUPERVISOR})
COORDINATION = frozenset({Role.CIDFF_COORDINATOR})
REFERRER = frozenset({Role.REFERRER})
EVERYONE = frozenset({Role.REFERRER, Role.EVALUATOR, Role.CIDFF_COORDINATOR, Role.PROSECUTOR, Role.SUPERVISOR})

OPEN_EVALUATION = (Status.EVALUATION, Status.INFO_REQUESTED, Status.REEVALUATION)
AT_PARQUET = (Status.REPORT_SENT, Status.RESERVED)
MEASURE = (Status.GRANTED, Status.ACTIVE, Status.ENDED)

BUILTIN = [
    Queue(
        "a-accuser",
        "À accuser réception",
        COORDINATION,
        _states(Status.SUBMITTED),
        _field("submitted_at"),
        "Depuis la transmission",
        priority=10,
        description="Signalements transmis dont la réception n'est pas encore accusée.",
    ),
    Queue(
        "a-attribuer",
        "À attribuer",
        COORDINATION,
        lambda user, now: Q(status=Status.RECEIVED, evaluator__isnull=True),
        _field("acknowledged_at"),
        "Depuis l'accusé de réception",
        priority=20,
        description="Dossiers reçus qui attendent une évaluatrice.",
    ),
    Queue(
        "en-evaluation",
        "En évaluation",
        COORDINATION,
        _states(*OPEN_EVALUATION),
        status_since,
        "Depuis l'attribution",
        priority=40,
        description="Évaluations en cours (première évaluation, complément demandé, réévaluation).",
    ),
    Queue(
        "au-parquet",
        "Au parquet",
        COORDINATION,
        _states(*AT_PARQUET),
        status_since,
        "Depuis la transmission du rapport",
        priority=50,
        description="Rapports transmis au parquet, en attente de décision ou téléphone réservé.",
    ),
    Queue(
        "mesure",
        "Mesure en cours",
        COORDINATION,
        _states(*MEASURE),
        status_since,
        "Dans cet état depuis",
        priority=60,
        description="Téléphone attribué : remise à organiser, mesure en cours, restitution attendue.",
    ),
    Queue(
        "brouillons",
        "Brouillons",
        REFERRER,
        _states(Status.DRAFT),
        _field("created_at"),
        "Commencé il y a",
        priority=10,
        default_sort="-depuis",
        description="Signalements commencés et pas encore transmis.",
    ),
    Queue(
        "transmis",
        "Transmis",
        REFERRER,
        lambda user, now: ~Q(status__in=(Status.DRAFT, Status.CLOSED)),
        _field("submitted_at"),
        "Depuis la transmission",
        priority=20,
        description="Signalements transmis dont vous suivez l'état.",
    ),
    Queue(
        "clotures",
        "Clôturés",
        EVERYONE - {Role.EVALUATOR},
        _states(Status.CLOSED),
        _field("closed_at"),
        "Clôturé il y a",
        priority=90,
        may_default=False,
        default_sort="-depuis",
        description="Dossiers clôturés, les plus récents d'abord.",
        holds=CLOSED,
    ),
    Queue(
        ALL,
        "Tous",
        EVERYONE | {Role.OPERATOR},
        lambda user, now: Q(),
        status_since,
        "Dans cet état depuis",
        priority=100,
        may_default=False,
        description="Tous les dossiers que vous voyez.",
        holds=EVERY,
    ),
]
for _queue in BUILTIN:
    register_queue(_queue)
