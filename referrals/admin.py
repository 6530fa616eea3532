"""Read-only view of dossiers for the comité de pilotage: workflow facts, no personal data; journaled."""

from django.contrib import admin

from accounts.models import Role
from audit.services import audit_record
from referrals.models import CaseEvent, Referral


class SupervisorReadOnlyMixin:
    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.role == Role.SUPERVISOR

    def has_module_permission(self, request):
        return self.has_view_permission(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CaseEventInline(SupervisorReadOnlyMixin, admin.TabularInline):
    model = CaseEvent
    fields = ["created_at", "action", "from_status", "to_status", "actor"]
    readonly_fields = fields
    extra = 0


@admin.register(Referral)
class ReferralAdmin(SupervisorReadOnlyMixin, admin.ModelAdmin):
    list_display = ["reference", "status", "urgency", "cidff", "referrer_organisation", "created_at", "submitted_at"]
    list_filter = ["status", "urgency", "cidff", "referrer_function"]
    search_fields = ["reference"]
    list_select_related = ["cidff", "referrer_organisation"]
    fields = [
        "reference",
        "status",
        "closure_reason",
        "urgency",
        "referrer_function",
        "referrer_organisation",
        "cidff",
        "evaluator",
        "author_relationship",
        "author_custody_status",
        "created_at",
        "submitted_at",
        "acknowledged_at",
        "closed_at",
    ]
    readonly_fields = fields
    inlines = [CaseEventInline]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            audit_record(actor=request.user, action="admin.referral.view", object_type="referral", object_id=object_id)
        return response
