"""Supervisors load instrument versions here; evaluations are read-only workflow facts, journaled."""

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.html import format_html

from audit.services import audit_record
from cidff.instruments import parse_definition
from cidff.models import Evaluation, Instrument
from cidff.services import instrument_activate, instrument_conflict, instrument_load
from referrals.admin import SupervisorReadOnlyMixin


class InstrumentLoadForm(forms.ModelForm):
    definition_file = forms.FileField(
        label="Fichier de définition", help_text="YAML ou JSON, au format de cidff/instruments/grille-vigie-v1.yaml."
    )
    activate = forms.BooleanField(label="Activer cette version", required=False, initial=True)

    class Meta:
        model = Instrument
        fields = []

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("definition_file")
        if upload is None:
            return cleaned
        try:
            self.definition_text = upload.read().decode("utf-8")
            definition = parse_definition(self.definition_text)
        except UnicodeDecodeError:
            raise ValidationError({"definition_file": "Le fichier doit être encodé en UTF-8."}) from None
        except ValidationError as exc:
            raise ValidationError({"definition_file": exc.messages}) from None
        conflict = instrument_conflict(definition)
        if conflict:
            raise ValidationError({"definition_file": conflict})
        return cleaned


@admin.register(Instrument)
class InstrumentAdmin(admin.ModelAdmin):
    list_display = ["title", "code", "version", "is_active", "loaded_at", "short_sha"]
    list_filter = ["code", "is_active"]
    readonly_fields = ["code", "version", "title", "is_active", "sha256", "loaded_at", "loaded_by", "pretty_definition"]
    fields = readonly_fields
    actions = ["activate"]

    @admin.display(description="SHA-256")
    def short_sha(self, obj):
        return obj.sha256[:12]

    @admin.display(description="définition")
    def pretty_definition(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(obj.definition, ensure_ascii=False, indent=2))

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = InstrumentLoadForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        return ["definition_file", "activate"] if obj is None else self.fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None):
        return False  # a loaded version never changes; load a new one

    def has_delete_permission(self, request, obj=None):
        return False  # evaluations point at their version forever

    def save_form(self, request, form, change):
        return instrument_load(
            text=form.definition_text, actor=request.user, activate=form.cleaned_data.get("activate", False)
        )

    def save_model(self, request, obj, form, change):
        """Saved by save_form through the service."""

    def save_related(self, request, form, formsets, change):
        if change:  # on add, the service saved everything (no many-to-many to add)
            super().save_related(request, form, formsets, change)

    @admin.action(description="Activer la version sélectionnée")
    def activate(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Sélectionnez une seule version.", messages.ERROR)
            return
        instrument = instrument_activate(actor=request.user, instrument=queryset.get())
        self.message_user(request, f"{instrument} est désormais la version active.")


@admin.register(Evaluation)
class EvaluationAdmin(SupervisorReadOnlyMixin, admin.ModelAdmin):
    list_display = ["referral", "kind", "status", "final_level", "incomplete", "created_at", "sent_at"]
    list_filter = ["status", "kind", "final_level", "instrument"]
    search_fields = ["referral__reference"]
    list_select_related = ["referral", "instrument"]
    fields = [
        "referral",
        "kind",
        "status",
        "instrument",
        "evaluator",
        "validated_by",
        "score_weighted",
        "score_red",
        "score_unknown",
        "computed_level",
        "final_level",
        "incomplete",
        "created_at",
        "finalized_at",
        "validated_at",
        "sent_at",
    ]
    readonly_fields = fields

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if response.status_code == 200:
            audit_record(
                actor=request.user, action="admin.evaluation.view", object_type="evaluation", object_id=object_id
            )
        return response
