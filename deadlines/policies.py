"""Who sees a dossier's deadlines: its CIDFF and its parquet, never the referrer nor the operator."""

from django.db.models import Q

from core.policies import ModelPolicy
from deadlines.models import Deadline
from referrals.policies import case_q


class DeadlinePolicy(ModelPolicy):
    model = Deadline
    not_found = "Échéance introuvable."

    def base_queryset(self):
        return Deadline.objects.select_related("referral")

    def visible_q(self, user) -> Q:
        return case_q(user)


deadline_policy = DeadlinePolicy()
