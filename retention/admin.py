"""Supervisors: legal holds on any dossier, and the retention durations of each TGD convention."""

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from accounts.admin import JurisdictionAdmin, JurisdictionForm
from accounts.models import Jurisdiction
from retention import schedule, services
from retention.models import LegalHold

RETENTION_FIELDS = [rule.setting for rule in schedule.RULES]


class RetentionJurisdictionForm(JurisdictionForm):
    """The convention's form, plus the retention durations, refused outside the schedule's legal bounds."""

    class Meta(JurisdictionForm.Meta):
        fields = [*JurisdictionForm.Meta.fields, *RETENTION_FIELDS]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for rule in schedule.RULES:
            field = self.fields[rule.setting]
            field.help_text = f"{field.help_text} Entre {rule.minimum} et {rule.maximum} {rule.unit} ({rule.source})."

    def clean(self):
        cleaned = super().clean()
        for name, message in schedule.out_of_bounds(cleaned).items():
            self.add_error(name, message)
        return cleaned


admin.site.unregister(Jurisdiction)


@admin.register(Jurisdiction)
class RetentionJurisdictionAdmin(JurisdictionAdmin):
    form = RetentionJurisdictionForm
    fieldsets = [
        *JurisdictionAdmin.fieldsets,
        ("Convention TGD — durées de conservation", {"fields": RETENTION_FIELDS}),
    ]


class LegalHoldAdminForm(forms.ModelForm):
    class Meta:
        model = LegalHold
        fields = ["referral", "reason"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "reason" in self.fields:
            self.fields["reason"].required = True
            self.fields["reason"].error_messages["required"] = "Indiquez le motif du gel."

    def clean_referral(self):
        referral = self.cleaned_data["referral"]
        problem = services.legal_hold_conflict(referral=referral)
        if problem:
            raise ValidationError(problem)
        return referral


@admin.register(LegalHold)
class LegalHoldAdmin(admin.ModelAdmin):
    """Put through the service (journaled); lifted with the action; never edited nor deleted."""

    form = LegalHoldAdminForm
    list_display = ["referral", "set_by", "set_at", "lifted_by", "lifted_at"]
    list_filter = [("lifted_at", admin.EmptyFieldListFilter)]
    search_fields = ["referral__reference"]
    raw_id_fields = ["referral"]
    actions = ["lift"]

    def get_readonly_fields(self, request, obj=None):
        return ["referral", "reason", "set_by", "set_at", "lifted_by", "lifted_at"] if obj else []

    def save_form(self, request, form, change):
        if change:
            return form.instance
        data = form.cleaned_data
        return services.legal_hold_set(user=request.user, referral_id=data["referral"].pk, reason=data["reason"])

    def save_model(self, request, obj, form, change):
        """The service saved it."""

    def save_related(self, request, form, formsets, change):
        """A hold has no many-to-many to save."""

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Lever le gel de conservation", permissions=["change"])
    def lift(self, request, queryset):
        lifted = 0
        for hold in queryset.filter(lifted_at__isnull=True):
            services.legal_hold_lift(user=request.user, referral_id=hold.referral_id)
            lifted += 1
        self.message_user(request, f"{lifted} gel(s) levé(s).")
