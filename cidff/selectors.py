"""Who sees which evaluation, and the derived figures of an evaluation (score, eligibility)."""

from django.db.models import QuerySet
from django.utils import timezone

from audit.services import audit_record_many
from cidff.eligibility import eligibility_check
from cidff.instruments import Score, compute_score
from cidff.models import Evaluation, EvaluationStatus, Instrument
from cidff.policies import evaluation_policy
from core.exceptions import NotFound
from core.fields import encrypted_field_names
from referrals.policies import referral_policy
from referrals.selectors import referral_linked_earlier, referral_parquet


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


def evaluation_list_visible(*, user) -> QuerySet[Evaluation]:
    return evaluation_policy.instances_user_has_permission_for(user)


def evaluation_list_of_dossier(*, user, referral) -> list[Evaluation]:
    """The evaluations of one dossier `user` may see, latest first (its page's section: dates, states, levels):
    nothing decrypted, each instrument read once, and the page's dossier as their dossier (its grants read once)."""
    rows = (
        evaluation_policy.of_dossier(user, referral)
        .defer(*encrypted_field_names(Evaluation))
        .select_related(None)
        .select_related("evaluator", "validated_by")
        .prefetch_related("instrument")
        .order_by("-id")
    )
    evaluations = list(rows)
    for evaluation in evaluations:
        evaluation.referral = referral
    return evaluations


# What a list shows of an evaluation: its kind, state and levels (`instrument` gives their labels).
LIST_FIELDS = ("referral_id", "kind", "status", "instrument_id", "computed_level", "final_level", "sent_at")


def evaluations_sent_latest_first(evaluations: QuerySet[Evaluation]) -> QuerySet[Evaluation]:
    """Transmitted evaluations, the latest report first: by report version, never by a timestamp."""
    return evaluations.filter(status=EvaluationStatus.SENT).order_by("-report__version", "-id")


def evaluation_latest_sent_of(*, referrals) -> dict[int, Evaluation]:
    """{dossier id: its latest transmitted report} for a list's rows (kind and levels): each instrument's
    definition read once, not once per row, and nothing personal loaded."""
    sent = evaluations_sent_latest_first(Evaluation.objects.filter(referral__in=referrals))
    latest = {}
    for evaluation in sent.only(*LIST_FIELDS).prefetch_related("instrument"):
        latest.setdefault(evaluation.referral_id, evaluation)
    return latest


def evaluation_latest_sent(*, referral) -> Evaluation | None:
    """The report the parquet decides on (call under the dossier's lock when it decides anything)."""
    return evaluations_sent_latest_first(referral.evaluations.all()).first()


def report_ready_to_send(*, user, referral, action) -> bool:
    """A report can go to the parquet once an evaluation of the dossier has passed its second reading."""
    return referral.evaluations.filter(status=EvaluationStatus.VALIDATED).exists()


def evaluation_get_visible(*, user, evaluation_id) -> Evaluation:
    return evaluation_policy.get_visible(user, evaluation_id)


def evaluation_require_visible(*, user, evaluation_id) -> None:
    evaluation_policy.require_visible(user, evaluation_id)


def evaluation_score(*, evaluation: Evaluation) -> Score:
    return compute_score(evaluation.instrument.definition, evaluation.answers)


def evaluation_eligibility(*, evaluation: Evaluation) -> tuple[list[str], list[str]]:
    return eligibility_check(
        evaluation.eligibility, relationship=evaluation.referral.author_relationship, today=timezone.localdate()
    )


def evaluation_send_refusals(*, evaluation: Evaluation) -> dict[str, list[str]]:
    """Why sending the report to the parquet would be refused now ({} when it would not), in French.

    The one check of the sending, asked earlier too: finalization warns with it, the second reading refuses to
    validate while it is not empty (same messages), so a validated evaluation is one that can be sent.
    """
    refusals = {}
    blocks, _ = evaluation_eligibility(evaluation=evaluation)
    if blocks:
        refusals["eligibility"] = blocks
    if referral_parquet(referral=evaluation.referral) is None:
        refusals["parquet"] = ["Aucun parquet actif pour la juridiction de ce CIDFF."]
    return refusals


def evaluation_blocking(*, evaluation: Evaluation) -> list[str]:
    """The same refusals as one list of French messages (pages, API `blocking`)."""
    return [message for messages in evaluation_send_refusals(evaluation=evaluation).values() for message in messages]


def linked_evaluations(*, user, referral) -> list[Evaluation]:
    """Validated or sent evaluations of the earlier dossiers the coordination linked to this one (same woman).

    Only for the CIDFF staff following this dossier, and only from linked dossiers their own CIDFF holds too:
    never anything from a dossier of another CIDFF. Each one listed is journaled.
    """
    if not referral_policy.may_follow(user, referral) or referral.cidff_id != user.organisation_id:
        return []
    earlier = referral_linked_earlier(referral=referral).filter(cidff_id=user.organisation_id)
    evaluations = list(
        Evaluation.objects.filter(referral__in=earlier, status__in=[EvaluationStatus.VALIDATED, EvaluationStatus.SENT])
        .select_related("referral")
        .only(*LIST_FIELDS, "validated_at", "referral__reference")  # a summary: nothing personal to decrypt
        .prefetch_related("instrument")
        .order_by("referral_id", "id")
    )
    audit_record_many(actor=user, action="evaluation.linked_summary", objects=evaluations, detail=referral.reference)
    return evaluations
