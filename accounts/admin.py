"""Supervisors manage jurisdictions, organisations and users here (groups are derived, not edited)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Jurisdiction, Organisation, User
from accounts.second_factor import second_factor_enrolled, second_factor_reset
from accounts.services import organisation_create, user_save_from_admin, user_validate_membership
from core.web import StrictJSONField

# Devices hold second-factor secrets: nobody browses them; a supervisor only resets a person's devices.
for _device_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_device_model):
        admin.site.unregister(_device_model)

CONVENTION_FIELDS = [
    "acknowledgement_working_days",
    "acknowledgement_urgent_hours",
    "evaluation_days",
    "evaluation_urgent_hours",
    "decision_reminder_days",
    "reevaluation_notice_days",
    "term_reminder_days",
    "device_return_days",
    "missed_tests_threshold",
    "max_renewals",
    "alert_recipients",
]


class JurisdictionForm(forms.ModelForm):
    class Meta:
        model = Jurisdiction
        fields = ["name", "departments", *CONVENTION_FIELDS]
        field_classes = {"departments": StrictJSONField}

    def clean_alert_recipients(self):
        """Extra alert recipients work in the jurisdiction (they are still told only of dossiers they may see)."""
        recipients = self.cleaned_data["alert_recipients"]
        outsiders = [
            u
            for u in recipients
            if self.instance.pk is None or u.organisation is None or u.organisation.jurisdiction_id != self.instance.pk
        ]
        if outsiders:
            raise ValidationError(
                "Choisissez des personnes des organisations de cette juridiction : "
                + ", ".join(str(u) for u in outsiders)
            )
        return recipients


@admin.register(Jurisdiction)
class JurisdictionAdmin(admin.ModelAdmin):
    form = JurisdictionForm
    list_display = ["name", "departments", "evaluation_days", "evaluation_urgent_hours", "max_renewals"]
    search_fields = ["name"]
    filter_horizontal = ["alert_recipients"]
    fieldsets = [
        (None, {"fields": ["name", "departments"]}),
        ("Convention TGD", {"fields": CONVENTION_FIELDS}),
    ]


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "jurisdiction", "department", "is_active"]
    list_filter = ["kind", "jurisdiction", "is_active"]
    search_fields = ["name"]

    def get_readonly_fields(self, request, obj=None):
        return ["kind"] if obj else []

    def save_form(self, request, form, change):
        if change:
            return super().save_form(request, form, change)
        data = form.cleaned_data
        return organisation_create(
            name=data["name"], kind=data["kind"], jurisdiction=data["jurisdiction"], department=data["department"]
        )

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        if change:  # on add, the service saved everything (no many-to-many to add)
            super().save_related(request, form, formsets, change)


class MembershipFormMixin:
    def clean(self):
        cleaned = super().clean()
        if cleaned.get("role"):
            try:
                user_validate_membership(role=cleaned["role"], organisation=cleaned.get("organisation"))
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


class UserCreationAdminForm(MembershipFormMixin, forms.ModelForm):
    """No password here: the person receives a link to choose her own (accounts.services.user_invite)."""

    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "role", "organisation"]


class UserChangeAdminForm(MembershipFormMixin, forms.ModelForm):
    class Meta:
        model = User
        fields = ["email", "first_name", "last_name", "role", "organisation", "is_active"]


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationAdminForm
    list_display = ["email", "last_name", "first_name", "role", "organisation", "is_active", "last_login"]
    list_filter = ["role", "is_active", "organisation"]
    search_fields = ["email", "last_name", "first_name"]
    ordering = ["last_name", "first_name"]
    readonly_fields = ["last_login", "date_joined", "second_factor"]
    actions = ["reset_second_factor"]

    @admin.display(description="double authentification")
    def second_factor(self, obj):
        return "active" if second_factor_enrolled(user=obj) else "à enrôler à la prochaine connexion"

    @admin.action(description="Réinitialiser la double authentification (téléphone perdu)")
    def reset_second_factor(self, request, queryset):
        """Deletes the devices, ends every session and token at once; each person re-enrols at next login."""
        count = 0
        for user in queryset:
            second_factor_reset(actor=request.user, user=user)
            count += 1
        self.message_user(
            request,
            f"Double authentification réinitialisée pour {count} compte(s) : sessions et jetons fermés, "
            "nouvel enrôlement à la prochaine connexion.",
            messages.SUCCESS,
        )

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = self.add_form
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["email", "first_name", "last_name", "role", "organisation"]
        return [
            "email",
            "first_name",
            "last_name",
            "role",
            "organisation",
            "is_active",
            "second_factor",
            "last_login",
            "date_joined",
        ]

    def has_delete_permission(self, request, obj=None):
        return False  # accounts are deactivated, never deleted: the journal points at them

    def save_model(self, request, obj, form, change):
        was_active = User.objects.filter(pk=obj.pk, is_active=True).exists() if change else False
        site_url = "" if change else request.build_absolute_uri("/")
        user_save_from_admin(actor=request.user, user=obj, was_active=was_active, site_url=site_url)
        if not change:
            self.message_user(
                request,
                "Invitation envoyée par e-mail : la personne choisit elle-même son mot de passe, puis enregistre "
                "son application d'authentification à la première connexion.",
                messages.INFO,
            )
