"""The dossier's states and the one table of allowed transitions (DESIGN.md)."""

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


S = Status
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.SUBMITTED}),
    S.SUBMITTED: frozenset({S.RECEIVED, S.CLOSED}),
    S.RECEIVED: frozenset({S.EVALUATION, S.RECEIVED, S.CLOSED}),
    S.EVALUATION: frozenset({S.EVALUATION, S.REPORT_SENT, S.CLOSED}),
    S.REPORT_SENT: frozenset({S.GRANTED, S.CLOSED, S.INFO_REQUESTED, S.RESERVED}),
    S.INFO_REQUESTED: frozenset({S.REPORT_SENT}),
    S.RESERVED: frozenset({S.GRANTED, S.CLOSED}),
    S.GRANTED: frozenset({S.ACTIVE, S.CLOSED}),
    S.ACTIVE: frozenset({S.REEVALUATION, S.ENDED}),
    S.REEVALUATION: frozenset({S.REEVALUATION, S.ACTIVE, S.ENDED}),  # self-loop: renewal report sent
    S.ENDED: frozenset({S.CLOSED}),
    S.CLOSED: frozenset(),
}

# Closure reasons a CIDFF coordinator may give, by the state the dossier is closed from.
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


def check_transition(current: str, target: str) -> None:
    """Raise Conflict (409) with a French message if `current → target` is not in the table."""
    if target not in TRANSITIONS[current]:
        raise Conflict(
            f"Action impossible : le dossier est « {Status(current).label} » "
            f"et ne peut pas passer à « {Status(target).label} »."
        )
