"""Who sees which evaluation, and the derived figures of an evaluation (score, eligibility)."""

from django.db.models import Q, QuerySet
from django.utils import timezone

from cidff.eligibility import eligibility_check
from cidff.instruments import Score, compute_score
from cidff.models import Evaluation, EvaluationStatus, Instrument
from core.exceptions import NotFound
from referrals.selectors import referral_permission_q


def instrument_get(*, code: str, version=None) -> Instrument:
    """The active version of a grid, or any version ever loaded (old versions stay readable)."""
    instruments = Instrument.objects.filter(code=code)
    try:
        instrument = (
            instruments.filter(version=int(version)).first() if version else instruments.filter(is_active=True).first()
        )
    except (TypeError, ValueError):
        instrument = None
    if instrument is None:
        raise NotFound("Grille introuvable.")
    return instrument


def instrument_list_active() -> QuerySet[Instrument]:
    return Instrument.objects.filter(is_active=True).order_by("code")


def evaluation_visible_q(*, user) -> Q:
    """The CIDFF that holds the dossier (coordinators, assigned evaluator) sees its evaluations;
    the parquet sees the ones transmitted to it; the referrer never does."""
    cidff = referral_permission_q(user=user, codename="change_referral", outer="referral") | referral_permission_q(
        user=user, codename="evaluate_referral", outer="referral"
    )
    parquet = referral_permission_q(user=user, codename="decide_referral", outer="referral") & Q(
        status=EvaluationStatus.SENT
    )
    return (cidff | parquet) & ~Q(referral__referrer=user)


def evaluation_list_visible(*, user) -> QuerySet[Evaluation]:
    if not (user.is_authenticated and user.is_active):
        return Evaluation.objects.none()
    return Evaluation.objects.filter(evaluation_visible_q(user=user)).select_related(
        "referral", "instrument", "evaluator", "validated_by", "referral__cidff"
    )


def evaluation_get_visible(*, user, evaluation_id) -> Evaluation:
    try:
        return evaluation_list_visible(user=user).get(pk=evaluation_id)
    except (Evaluation.DoesNotExist, ValueError, TypeError):
        raise NotFound("Évaluation introuvable.") from None


def evaluation_score(*, evaluation: Evaluation) -> Score:
    return compute_score(evaluation.instrument.definition, evaluation.answers)


def evaluation_eligibility(*, evaluation: Evaluation) -> tuple[list[str], list[str]]:
    return eligibility_check(
        evaluation.eligibility, relationship=evaluation.referral.author_relationship, today=timezone.localdate()
    )
