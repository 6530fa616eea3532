"""Deadlines, read-only, for the comité de pilotage: which dates are watched, met, missed."""

from django.contrib import admin

from deadlines.models import Deadline
from referrals.admin import SupervisorReadOnlyMixin


@admin.register(Deadline)
class DeadlineAdmin(SupervisorReadOnlyMixin, admin.ModelAdmin):
    list_display = ["referral", "kind", "days_before", "due_at", "state", "raised_at", "closed_at"]
    list_filter = ["state", "kind", "referral__cidff__jurisdiction"]
    search_fields = ["referral__reference"]
    list_select_related = ["referral"]
    date_hierarchy = "due_at"
    fields = list_display + ["reference_date", "opened_at"]
    readonly_fields = fields
