"""The dossier's states and the one table of its transitions.

Each `Transition` says where it may start, where it leads, who may take it (an action of the
dossier policy) and what it brings along: grants written and revoked, deadlines met, people told.
Services ask `transition_check()` before acting and `referrals.services.referral_move()` applies
the row; pages and the API ask `referrals.selectors.referral_actions()` which transitions a user
may take now, so no layer re-derives the rules.

Deadlines and notifications sit above this layer: they react through the hooks of
`referrals.hooks`, never through an import from here.
"""

from dataclasses import dataclass, field

from django.db import models

from core.exceptions import Conflict


class Status(models.TextChoices):
    DRAFT = "draft", "Brouillon"
    SUBMITTED = "submitted", "Transmis au CIDFF"
    RECEIVED = "received", "Reçu — à attribuer"
    EVALUATION = "evaluation", "Évaluation en cours"
    REPORT_SENT = "report_sent", "Rapport transmis au parquet"
    INFO_REQUESTED = "info_requested", "Complément demandé"
    RESERVED = "reserved", "Téléphone réservé (attente libération de l'auteur)"
    GRANTED = "granted", "Attribué — remise à organiser"
    ACTIVE = "active", "Mesure en cours"
    REEVALUATION = "reevaluation", "Réévaluation avant échéance"
    ENDED = "ended", "Mesure terminée — restitution attendue"
    CLOSED = "closed", "Clôturé"


class ClosureReason(models.TextChoices):
    INELIGIBLE = "ineligible", "Non éligible"
    REDIRECTED = "redirected", "Réorienté"
    UNREACHABLE = "unreachable", "Victime injoignable"
    WITHDRAWN_BY_REFERRER = "withdrawn_by_referrer", "Retiré par le référent"
    WITHDRAWN_BY_VICTIM = "withdrawn_by_victim", "Retrait de la victime"
    REFUSED = "refused", "Refus du procureur"
    MEASURE_ENDED = "measure_ended", "Fin de la mesure"
    AUTHOR_INCARCERATED = "author_incarcerated", "Auteur incarcéré"
    NON_COMPLIANCE = "non_compliance", "Non-respect des conditions d'utilisation"
    MOVED = "moved", "Déménagement"
    DEATH = "death", "Décès"
    OTHER = "other", "Autre"


# Closure reasons a CIDFF coordinator may give.
COORDINATOR_CLOSURE_REASONS = frozenset(
    {
        ClosureReason.INELIGIBLE,
        ClosureReason.REDIRECTED,
        ClosureReason.UNREACHABLE,
        ClosureReason.WITHDRAWN_BY_VICTIM,
        ClosureReason.WITHDRAWN_BY_REFERRER,
        ClosureReason.MOVED,
        ClosureReason.DEATH,
        ClosureReason.OTHER,
    }
)


class NotificationKind(models.TextChoices):
    """What people are told of; the workflow names them, the notifications app delivers them."""

    REFERRAL_SUBMITTED = "referral_submitted", "Nouveau signalement à traiter"
    REFERRAL_ACKNOWLEDGED = "referral_acknowledged", "Accusé de réception du CIDFF"
    EVALUATION_FINALIZED = "evaluation_finalized", "Évaluation à valider (seconde lecture)"
    EVALUATION_RETURNED = "evaluation_returned", "Évaluation renvoyée par la seconde lecture"
    REPORT_SENT = "report_sent", "Rapport d'évaluation à examiner"
    DECISION_TAKEN = "decision_taken", "Décision du parquet"
    OUTCOME_NOTICE = "outcome_notice", "Suite donnée au signalement"
    MEASURE_WITHDRAWN = "measure_withdrawn", "Retrait du téléphone — restitution attendue"
    MEASURE_ENDED = "measure_ended", "Fin de la mesure — restitution attendue"
    REEVALUATION_DUE = "reevaluation_due", "Réévaluation à mener avant l'échéance"
    ALERT_REPORTED = "alert_reported", "Alerte déclenchée par la bénéficiaire"
    ACKNOWLEDGEMENT_OVERDUE = "acknowledgement_overdue", "Signalement non pris en charge dans le délai"
    EVALUATION_OVERDUE = "evaluation_overdue", "Rapport d'évaluation en retard sur la convention"
    DECISION_PENDING = "decision_pending", "Rapport en attente de décision"
    TERM_APPROACHING = "term_approaching", "Échéance de la mesure dans les prochains jours"
    DEVICE_RETURN_OVERDUE = "device_return_overdue", "Téléphone non restitué dans le délai"
    AUTHOR_RELEASE = "author_release", "Libération de l'auteur prochaine"
    CONTACT_BAN_ENDING = "contact_ban_ending", "Interdiction de contact prenant fin avant l'échéance"
    MISSED_TESTS = "missed_tests", "Tests périodiques du téléphone manqués à répétition"


class DeadlineKind(models.TextChoices):
    """The dates Vigie watches; the apps that know them register their rules (`referrals.hooks`)."""

    ACKNOWLEDGEMENT = "acknowledgement", "Accusé de réception du signalement"
    EVALUATION = "evaluation", "Transmission du rapport d'évaluation"
    DECISION = "decision", "Décision du parquet sur le rapport"
    REEVALUATION = "reevaluation", "Réévaluation avant l'échéance"
    TERM_REMINDER = "term_reminder", "Échéance de la mesure approchant"
    TERM = "term", "Échéance de la mesure"
    DEVICE_RETURN = "device_return", "Restitution du téléphone"
    AUTHOR_RELEASE = "author_release", "Libération de l'auteur approchant"
    CONTACT_BAN_END = "contact_ban_end", "Fin de l'interdiction de contact avant l'échéance"
    MISSED_TESTS = "missed_tests", "Tests périodiques manqués à répétition"


class Audience(models.TextChoices):
    """Who a notice goes to, resolved on the dossier (`referrals.selectors.audience_users`)."""

    REFERRER = "referrer", "Le référent"
    COORDINATORS = "coordinators", "La coordination du CIDFF"
    EVALUATOR = "evaluator", "L'évaluatrice du dossier"
    PARQUET = "parquet", "Le parquet de la juridiction"


# Facts of the measure that open or meet deadlines (`referrals.hooks.record_fact`).
MISSED_TEST, BENEFICIARY_REACHED = "missed_test", "beneficiary_reached"

# Holders of object grants on a dossier, resolved before and after the move (`referrals.permissions`).
AUTHOR, COORDINATION, EVALUATOR, PARQUET = "author", "coordination", "evaluator", "parquet"
VIEW, CHANGE, EVALUATE, DECIDE = "view_referral", "change_referral", "evaluate_referral", "decide_referral"

# Who may take a transition: an action of `referrals.policies.referral_policy`, or Vigie itself.
SYSTEM = "system"


@dataclass(frozen=True)
class Grant:
    holder: str
    perms: tuple[str, ...]


@dataclass(frozen=True)
class Transition:
    action: str  # its code: in the journal (CaseEvent.action), the API's `actions` and the page's buttons
    label: str  # what the journal and the buttons say
    moves: dict[str, str]  # source state → target state
    by: str  # the policy action that entitles a user to take it (SYSTEM: a deadline's automatic step)
    grant: tuple[Grant, ...] = ()
    revoke: tuple[Grant, ...] = ()
    meets: tuple[str, ...] = ()  # deadline kinds this step fulfils (others no longer wanted are cancelled)
    tell: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (notification kind, audiences)
    sources: frozenset[str] = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "sources", frozenset(self.moves))

    def target(self, source: str) -> str:
        return self.moves[source]


def _from(sources, target) -> dict[str, str]:
    return dict.fromkeys(sources, target)


S, K, N, A = Status, DeadlineKind, NotificationKind, Audience
CIDFF_STAFF = (A.COORDINATORS, A.EVALUATOR)
DECIDED = ((N.DECISION_TAKEN, CIDFF_STAFF), (N.OUTCOME_NOTICE, (A.REFERRER,)))
MEASURE_STATES = frozenset({S.ACTIVE, S.REEVALUATION})  # a phone is in the beneficiary's hands

TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "submit",
        "Transmission au CIDFF",
        _from([S.DRAFT], S.SUBMITTED),
        by="author",
        revoke=(Grant(AUTHOR, (CHANGE,)),),
        grant=(Grant(COORDINATION, (VIEW, CHANGE)),),
        tell=((N.REFERRAL_SUBMITTED, (A.COORDINATORS,)),),
    ),
    Transition(
        "withdraw",
        "Retrait par le référent",
        _from([S.SUBMITTED, S.RECEIVED], S.CLOSED),
        by="author",
    ),
    Transition(
        "acknowledge",
        "Accusé de réception",
        _from([S.SUBMITTED], S.RECEIVED),
        by="coordinate",
        meets=(K.ACKNOWLEDGEMENT,),
        tell=((N.REFERRAL_ACKNOWLEDGED, (A.REFERRER,)),),
    ),
    Transition(
        "assign",
        "Attribution",
        _from([S.RECEIVED], S.EVALUATION),
        by="coordinate",
        grant=(Grant(EVALUATOR, (VIEW, CHANGE, EVALUATE)),),
    ),
    Transition(
        "reassign",
        "Réattribution",
        _from([S.EVALUATION], S.EVALUATION),
        by="coordinate",
        revoke=(Grant(EVALUATOR, (VIEW, CHANGE, EVALUATE)),),
        grant=(Grant(EVALUATOR, (VIEW, CHANGE, EVALUATE)),),
    ),
    Transition(
        "transfer",
        "Transfert vers un autre CIDFF",
        _from([S.RECEIVED], S.RECEIVED),
        by="coordinate",
        revoke=(Grant(COORDINATION, (VIEW, CHANGE)),),
        grant=(Grant(COORDINATION, (VIEW, CHANGE)),),
    ),
    Transition(
        "close",
        "Clôture",
        _from([S.RECEIVED, S.EVALUATION], S.CLOSED),
        by="coordinate",
    ),
    Transition(
        "report_sent",
        "Rapport transmis au parquet",
        {S.EVALUATION: S.REPORT_SENT, S.INFO_REQUESTED: S.REPORT_SENT, S.REEVALUATION: S.REEVALUATION},
        by="coordinate",
        grant=(Grant(PARQUET, (VIEW, DECIDE)),),
        meets=(K.EVALUATION,),
        tell=((N.REPORT_SENT, (A.PARQUET,)),),
    ),
    Transition(
        "decision_granted",
        "Décision : attribution du téléphone",
        _from([S.REPORT_SENT, S.RESERVED], S.GRANTED),
        by="decide",
        meets=(K.DECISION,),
        tell=DECIDED,
    ),
    Transition(
        "decision_refused",
        "Décision : refus",
        _from([S.REPORT_SENT, S.RESERVED], S.CLOSED),
        by="decide",
        meets=(K.DECISION,),
        tell=DECIDED,
    ),
    Transition(
        "decision_info_requested",
        "Décision : complément demandé",
        _from([S.REPORT_SENT], S.INFO_REQUESTED),
        by="decide",
        meets=(K.DECISION,),
        tell=DECIDED,
    ),
    Transition(
        "decision_reserved",
        "Décision : téléphone réservé",
        _from([S.REPORT_SENT], S.RESERVED),
        by="decide",
        meets=(K.DECISION,),
        tell=DECIDED,
    ),
    Transition(
        "handover",
        "Remise du téléphone",
        _from([S.GRANTED], S.ACTIVE),
        by="coordinate",
    ),
    Transition(
        "reevaluation",
        "Réévaluation lancée",
        _from([S.ACTIVE], S.REEVALUATION),
        by="coordinate",
        meets=(K.REEVALUATION,),
        tell=((N.REEVALUATION_DUE, (A.EVALUATOR,)),),
    ),
    Transition(
        "reevaluation_requested",
        "Réévaluation demandée (préavis atteint)",
        _from([S.ACTIVE], S.REEVALUATION),
        by=SYSTEM,
        meets=(K.REEVALUATION,),
    ),
    Transition(
        "decision_renewed",
        "Décision : renouvellement",
        _from([S.REEVALUATION], S.ACTIVE),
        by="decide",
        meets=(K.DECISION,),
        tell=DECIDED,
    ),
    Transition(
        "decision_ended",
        "Décision : fin de la mesure",
        _from([S.REEVALUATION], S.ENDED),
        by="decide",
        meets=(K.DECISION,),
        tell=DECIDED,
    ),
    Transition(
        "withdrawal",
        "Retrait du téléphone",
        _from(MEASURE_STATES, S.ENDED),
        by="decide",
        meets=(K.DECISION,),
        tell=((N.MEASURE_WITHDRAWN, CIDFF_STAFF),),
    ),
    Transition(
        "term_reached",
        "Échéance de la mesure atteinte",
        _from(MEASURE_STATES, S.ENDED),
        by=SYSTEM,
        meets=(K.DECISION,),
        tell=((N.MEASURE_ENDED, (*CIDFF_STAFF, A.PARQUET)),),
    ),
    Transition(
        "device_returned",
        "Restitution du téléphone",
        _from([S.ENDED], S.CLOSED),
        by="coordinate",
        meets=(K.DEVICE_RETURN,),
    ),
)
BY_ACTION: dict[str, Transition] = {transition.action: transition for transition in TRANSITIONS}
FINAL_STATES = frozenset({S.CLOSED})
# States in which the author's release still matters to the woman's safety.
RELEASE_WATCHED = frozenset(Status) - {S.DRAFT, S.ENDED, S.CLOSED}
ACTION_LABELS = {"create": "Création du brouillon"} | {t.action: t.label for t in TRANSITIONS}


def transition_check(referral, action: str, message: str = "") -> Transition:
    """The table's row for `action` if the dossier's state allows it; Conflict (409) in French otherwise."""
    transition = BY_ACTION[action]
    if referral.status not in transition.sources:
        raise Conflict(
            message
            or f"Action impossible : le dossier est « {Status(referral.status).label} » "
            f"et « {transition.label} » n'est pas possible dans cet état."
        )
    return transition
