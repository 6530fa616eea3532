"""Supervisors manage the phone stock here; decisions, attributions and alerts are read-only and
every opening of one is journaled."""

from django.contrib import admin

from audit.services import audit_record
from parquet.models import Alert, Attribution, Decision, Device, DeviceEvent
from parquet.services import device_create, device_update
from referrals.admin import SupervisorReadOnlyMixin


class JournaledReadOnlyAdmin(SupervisorReadOnlyMixin, admin.ModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            model = self.model._meta.model_name
            audit_record(actor=request.user, action=f"admin.{model}.view", object_type=model, object_id=object_id)
        return response


class DeviceEventInline(SupervisorReadOnlyMixin, admin.TabularInline):
    model = DeviceEvent
    fields = ["created_at", "from_status", "to_status", "note", "actor"]
    readonly_fields = fields
    extra = 0


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ["serial", "phone_number", "status", "organisation"]
    list_filter = ["status", "organisation"]
    search_fields = ["serial", "phone_number"]
    list_select_related = ["organisation"]
    inlines = [DeviceEventInline]

    def get_fields(self, request, obj=None):
        return (
            ["serial", "phone_number", "organisation"]
            if obj is None
            else ["serial", "phone_number", "organisation", "status"]
        )

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else ["serial", "phone_number"]

    def has_delete_permission(self, request, obj=None):
        return False  # phones are retired, never deleted: their history stays

    def save_form(self, request, form, change):
        if change:
            return form.save(commit=False)
        data = form.cleaned_data
        return device_create(
            user=request.user,
            serial=data["serial"],
            phone_number=data["phone_number"],
            organisation_id=data["organisation"].pk,
        )

    def save_model(self, request, obj, form, change):
        if change:
            device_update(user=request.user, device_id=obj.pk, status=obj.status, organisation_id=obj.organisation_id)

    def save_related(self, request, form, formsets, change):
        """No many-to-many here; the history inline is read-only (the services write it)."""
        for formset in formsets:
            self.save_formset(request, form, formset, change)


@admin.register(Decision)
class DecisionAdmin(JournaledReadOnlyAdmin):
    list_display = ["referral", "outcome", "duration_months", "signed_by", "signed_at"]
    list_filter = ["outcome"]
    search_fields = ["referral__reference"]
    list_select_related = ["referral"]
    fields = ["referral", "evaluation", "outcome", "duration_months", "reserved_until", "signed_by", "signed_at"]


@admin.register(Attribution)
class AttributionAdmin(JournaledReadOnlyAdmin):
    list_display = ["referral", "device", "start_date", "end_date", "status"]
    list_filter = ["status"]
    search_fields = ["referral__reference", "device__serial"]
    list_select_related = ["referral", "device"]
    fields = [
        "referral",
        "decision",
        "device",
        "handover_date",
        "start_date",
        "end_date",
        "consent",
        "geolocation_consent",
        "status",
        "end_reason",
        "copil_opinion_date",
    ]


@admin.register(Alert)
class AlertAdmin(JournaledReadOnlyAdmin):
    list_display = ["attribution", "occurred_at", "kind", "police_intervention", "arrest"]
    list_filter = ["kind", "police_intervention", "arrest"]
    list_select_related = ["attribution", "attribution__referral"]
    fields = ["attribution", "occurred_at", "kind", "police_intervention", "arrest"]
