"""Who sees and acts on decisions, phones, attribution periods and alerts: one policy per model.

The dossier's CIDFF and parquet see its measure; the operator sees the beneficiary sheet of an
active period only (its own grant on the attribution); the stock belongs to a CIDFF's coordination
and to the comité de pilotage.
"""

from django.db.models import Q

from accounts.models import Role
from core.policies import ModelPolicy, ObjectGrants
from parquet.models import (
    Alert,
    Attribution,
    AttributionGroupObjectPermission,
    AttributionStatus,
    AttributionUserObjectPermission,
    Decision,
    Device,
)
from referrals.policies import CaseRowsPolicy, case_q, referral_policy

VIEW_SHEET = "view_attribution"
attribution_grants = ObjectGrants(
    app_label="parquet", user_table=AttributionUserObjectPermission, group_table=AttributionGroupObjectPermission
)


def sheet_q(user, outer: str = "pk") -> Q:
    """The operator's grant: the beneficiary sheet of an active attribution, nothing else."""
    return attribution_grants.q(user=user, codename=VIEW_SHEET, outer=outer)


class DecisionPolicy(CaseRowsPolicy):
    model = Decision
    not_found = "Décision introuvable."

    def base_queryset(self):
        return Decision.objects.select_related("referral", "author", "evaluation")

    def visible_q(self, user) -> Q:
        return case_q(user)


class AttributionPolicy(CaseRowsPolicy):
    model = Attribution
    not_found = "Attribution introuvable."

    def base_queryset(self):
        return Attribution.objects.select_related("referral", "device", "decision", "referral__cidff")

    def visible_q(self, user) -> Q:
        """CIDFF and parquet see the periods of their dossiers; the operator sees active sheets only."""
        return case_q(user) | (sheet_q(user) & Q(status=AttributionStatus.ACTIVE))

    def may_withdraw(self, user, attribution) -> bool:
        return referral_policy.may_decide(user, attribution.referral)

    def may_record_return(self, user, attribution) -> bool:
        return referral_policy.may_coordinate(user, attribution.referral)

    def may_report_alert(self, user, attribution) -> bool:
        return self.is_operator(user) and VIEW_SHEET in attribution_grants.granted(user, attribution)

    @staticmethod
    def is_operator(user) -> bool:
        return getattr(user, "role", None) == Role.OPERATOR


class AlertPolicy(CaseRowsPolicy):
    model = Alert
    not_found = "Alerte introuvable."
    case_field = "attribution__referral"

    def base_queryset(self):
        return Alert.objects.select_related("attribution", "attribution__referral", "reported_by")

    def visible_q(self, user) -> Q:
        operator = sheet_q(user, outer="attribution") & Q(attribution__status=AttributionStatus.ACTIVE)
        return case_q(user, outer="attribution__referral") | operator


class DevicePolicy(ModelPolicy):
    """Supervisors see and manage the whole stock; a CIDFF coordination its organisation's; nobody else."""

    model = Device
    not_found = "Téléphone introuvable."

    def base_queryset(self):
        return Device.objects.select_related("organisation")

    def visible_q(self, user) -> Q:
        if user.role == Role.SUPERVISOR:
            return Q()
        if user.role == Role.CIDFF_COORDINATOR:
            return Q(organisation_id=user.organisation_id)
        return Q(pk__in=[])

    def may_relocate(self, user, device) -> bool:
        """Moving a phone from one CIDFF to another is the comité de pilotage's."""
        return user.role == Role.SUPERVISOR

    @staticmethod
    def may_stock(user) -> bool:
        """May keep a stock at all (the stock pages and the device API)."""
        return user.is_active and user.role in (Role.SUPERVISOR, Role.CIDFF_COORDINATOR)

    @staticmethod
    def own_stock_only(user) -> bool:
        """A coordination adds phones to its own CIDFF; the comité de pilotage chooses the CIDFF."""
        return user.role == Role.CIDFF_COORDINATOR


decision_policy = DecisionPolicy()
attribution_policy = AttributionPolicy()
alert_policy = AlertPolicy()
device_policy = DevicePolicy()
