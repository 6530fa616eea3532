"""Who sees an evaluation and who may fill, read a second time, amend or send it: one policy."""

from django.db.models import Q, QuerySet

from cidff.models import Evaluation, EvaluationStatus
from core.policies import ModelPolicy, active
from referrals.policies import referral_grants, referral_policy
from referrals.workflow import CHANGE, DECIDE, EVALUATE


class EvaluationPolicy(ModelPolicy):
    model = Evaluation
    not_found = "Évaluation introuvable."

    def base_queryset(self):
        return Evaluation.objects.select_related(
            "referral", "instrument", "evaluator", "validated_by", "referral__cidff"
        )

    def visible_q(self, user) -> Q:
        """The CIDFF that holds the dossier (coordination, assigned evaluator) sees its evaluations;
        the parquet sees the ones transmitted to it; the referrer never does."""
        cidff = referral_grants.q(user=user, codename=(CHANGE, EVALUATE), outer="referral")
        parquet = referral_grants.q(user=user, codename=DECIDE, outer="referral") & Q(status=EvaluationStatus.SENT)
        return (cidff | parquet) & ~Q(referral__referrer=user)

    def of_dossier(self, user, referral) -> QuerySet:
        """`visible_q` said of one dossier from its grants (read once for its page, no grant subquery): all its
        evaluations for its CIDFF, the transmitted ones for its parquet, none for anybody else."""
        rows = self.base_queryset().filter(referral=referral)
        if not active(user) or referral.referrer_id == user.pk:
            return rows.none()
        held = referral_grants.granted(user, referral)
        if not held.isdisjoint((CHANGE, EVALUATE)):
            return rows
        if DECIDE in held:
            return rows.filter(status=EvaluationStatus.SENT)
        return rows.none()

    def may_fill(self, user, evaluation) -> bool:
        """Its author, while the dossier is still assigned to her."""
        return evaluation.evaluator_id == user.pk and referral_policy.may_evaluate(user, evaluation.referral)

    def may_second_read(self, user, evaluation) -> bool:
        """The CIDFF's coordination reads it a second time, sends it back or transmits it."""
        return referral_policy.may_coordinate(user, evaluation.referral)

    def may_validate(self, user, evaluation) -> bool:
        """The second reader is never the evaluation's author."""
        return self.may_second_read(user, evaluation) and evaluation.evaluator_id != user.pk

    def may_amend(self, user, evaluation) -> bool:
        return self.may_fill(user, evaluation) or self.may_second_read(user, evaluation)


evaluation_policy = EvaluationPolicy()
