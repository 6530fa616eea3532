"""Who works in Vigie: jurisdictions, organisations, users and their API tokens."""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, Group, PermissionsMixin
from django.db import models
from django.utils import timezone


class Role(models.TextChoices):
    REFERRER = "referrer", "Professionnel référent"
    EVALUATOR = "evaluator", "Évaluatrice / évaluateur CIDFF"
    CIDFF_COORDINATOR = "cidff_coordinator", "Coordination CIDFF"
    PROSECUTOR = "prosecutor", "Procureur / parquet"
    OPERATOR = "operator", "Opérateur de téléassistance"
    SUPERVISOR = "supervisor", "Comité de pilotage"


class OrganisationKind(models.TextChoices):
    REFERRING_SERVICE = "referring_service", "Service référent"
    CIDFF = "cidff", "CIDFF"
    PARQUET = "parquet", "Parquet"
    OPERATOR = "operator", "Opérateur de téléassistance"


# Which organisation kinds a role may belong to (supervisors may have none).
ROLE_ORGANISATION_KINDS = {
    Role.REFERRER: {OrganisationKind.REFERRING_SERVICE},
    Role.EVALUATOR: {OrganisationKind.CIDFF},
    Role.CIDFF_COORDINATOR: {OrganisationKind.CIDFF},
    Role.PROSECUTOR: {OrganisationKind.PARQUET},
    Role.OPERATOR: {OrganisationKind.OPERATOR},
    Role.SUPERVISOR: set(OrganisationKind),
}


class Jurisdiction(models.Model):
    """A tribunal judiciaire and the settings of its TGD convention."""

    name = models.CharField("nom", max_length=120, unique=True)
    departments = models.JSONField("départements", default=list, help_text='Par exemple ["92"].')
    acknowledgement_working_days = models.PositiveSmallIntegerField(
        "délai d'accusé de réception (jours ouvrés)", default=1
    )
    acknowledgement_urgent_hours = models.PositiveSmallIntegerField(
        "délai d'accusé de réception en urgence (heures)",
        default=24,
        help_text="Heures calendaires, week-end compris : un signalement urgent ne reste pas non lu.",
    )
    evaluation_days = models.PositiveSmallIntegerField("délai d'évaluation (jours)", default=5)
    evaluation_urgent_hours = models.PositiveSmallIntegerField("délai d'évaluation en urgence (heures)", default=48)
    decision_reminder_days = models.PositiveSmallIntegerField(
        "relance du parquet (jours)", default=2, help_text="Jours après la transmission du rapport sans décision."
    )
    reevaluation_notice_days = models.PositiveSmallIntegerField("préavis de réévaluation (jours)", default=30)
    term_reminder_days = models.PositiveSmallIntegerField("rappel avant l'échéance (jours)", default=15)
    device_return_days = models.PositiveSmallIntegerField(
        "délai de restitution du téléphone (jours)", default=7, help_text="Après la fin de la mesure."
    )
    missed_tests_threshold = models.PositiveSmallIntegerField(
        "tests manqués avant alerte",
        default=2,
        help_text="Nombre de tests périodiques manqués sur 30 jours qui déclenche une alerte au CIDFF.",
    )
    max_renewals = models.PositiveSmallIntegerField(
        "nombre maximal de renouvellements",
        null=True,
        blank=True,
        help_text="Vide : illimité, comme le prévoit la loi.",
    )
    # Retention (bounds and clocks: retention.schedule; docs/retention.md).
    retention_draft_days = models.PositiveSmallIntegerField(
        "conservation d'un brouillon jamais transmis (jours)",
        default=90,
        help_text="Après la dernière modification, le brouillon est supprimé avec ses pièces.",
    )
    retention_closed_months = models.PositiveSmallIntegerField(
        "conservation d'un dossier clôturé sans mesure (mois)",
        default=24,
        help_text="Après la clôture d'un dossier qui n'a jamais eu de téléphone : le dossier est anonymisé.",
    )
    retention_measure_months = models.PositiveSmallIntegerField(
        "conservation d'un dossier après la fin de la mesure (mois)",
        default=24,
        help_text="Après la clôture qui suit la restitution du téléphone : le dossier est anonymisé.",
    )
    retention_documents_months = models.PositiveSmallIntegerField(
        "conservation des pièces et des PDF (mois)",
        default=12,
        help_text="Après la clôture : pièces jointes, rapports, décisions et fiches bénéficiaire sont effacés.",
    )
    retention_sheet_days = models.PositiveSmallIntegerField(
        "conservation de la fiche de l'opérateur (jours)",
        default=3,
        help_text="Après la restitution du téléphone : la fiche bénéficiaire vue par l'opérateur est effacée.",
    )
    retention_notification_days = models.PositiveSmallIntegerField(
        "conservation des notifications (jours)",
        default=180,
        help_text="Après leur création, les notifications de la boîte de réception sont supprimées.",
    )
    retention_deadline_days = models.PositiveSmallIntegerField(
        "conservation des échéances d'un dossier clôturé (jours)",
        default=90,
        help_text="Après la clôture du dossier, ses échéances surveillées sont supprimées.",
    )
    alert_recipients = models.ManyToManyField(
        "User",
        verbose_name="destinataires supplémentaires des alertes",
        blank=True,
        related_name="alerted_jurisdictions",
        help_text="Reçoivent aussi les alertes d'échéance, pour les seuls dossiers qu'ils peuvent consulter.",
    )

    class Meta:
        verbose_name = "juridiction"
        verbose_name_plural = "juridictions"
        ordering = ["name"]

    def __str__(self):
        return self.name


class Organisation(models.Model):
    """A service, CIDFF, parquet or operator; its auth groups carry object-level grants."""

    name = models.CharField("nom", max_length=160, unique=True)
    kind = models.CharField("type", max_length=32, choices=OrganisationKind.choices)
    jurisdiction = models.ForeignKey(
        Jurisdiction, verbose_name="juridiction", on_delete=models.PROTECT, related_name="organisations"
    )
    department = models.CharField("département", max_length=3)
    is_active = models.BooleanField("active", default=True)
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="organisation", editable=False)
    coordinators_group = models.OneToOneField(
        Group,
        on_delete=models.PROTECT,
        related_name="coordinated_organisation",
        null=True,
        blank=True,
        editable=False,
        help_text="Coordination d'un CIDFF : reçoit les signalements adressés à ce CIDFF.",
    )

    class Meta:
        verbose_name = "organisation"
        verbose_name_plural = "organisations"
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(kind="cidff") | models.Q(coordinators_group__isnull=False),
                name="cidff_has_coordinators_group",
            )
        ]

    def __str__(self):
        return self.name


class ReferrerFunction(models.TextChoices):
    """A referring professional's function (DESIGN.md): on each signalement, and remembered on her account."""

    PROSECUTOR = "magistrat_parquet", "Magistrat du parquet"
    CHILDREN_JUDGE = "juge_enfants", "Juge des enfants"
    FAMILY_JUDGE = "jaf", "Juge aux affaires familiales"
    SENTENCING_JUDGE = "jap", "Juge de l'application des peines"
    LIBERTY_JUDGE = "jld", "Juge des libertés et de la détention"
    SOCIAL_WORKER = "travailleur_social", "Travailleur social"
    DOCTOR = "medecin", "Médecin"
    PMI = "pmi", "Protection maternelle et infantile (PMI)"
    RECEPTION = "agent_accueil", "Agent d'accueil"
    SCHOOL_HEAD = "directeur_ecole", "Directeur d'école"
    LAW_ACCESS_POINT = "point_acces_droit", "Point d'accès au droit"
    POLICE_SOCIAL_WORKER = "intervenant_social_commissariat", "Intervenant social en commissariat"
    POLICE_PSYCHOLOGIST = "psychologue_commissariat", "Psychologue en commissariat"
    POLICE = "police_gendarmerie", "Police ou gendarmerie"
    SPIP = "spip", "SPIP"
    LAWYER = "avocat", "Avocat"
    VICTIM_SUPPORT = "association_victimes", "Association d'aide aux victimes"
    HOSPITAL = "hopital", "Hôpital"
    OTHER = "autre", "Autre"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **extra):
        if not email:
            raise ValueError("L'adresse e-mail est obligatoire.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **extra):
        extra.update(is_staff=True, is_superuser=True, role=Role.SUPERVISOR)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person working in Vigie; logs in with an e-mail address."""

    email = models.EmailField("adresse e-mail", unique=True)
    first_name = models.CharField("prénom", max_length=80, blank=True)
    last_name = models.CharField("nom", max_length=80, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="organisation",
        on_delete=models.PROTECT,
        related_name="members",
        null=True,
        blank=True,
    )
    role = models.CharField("rôle", max_length=32, choices=Role.choices)
    function = models.CharField(
        "fonction",
        max_length=40,
        choices=ReferrerFunction.choices,
        blank=True,
        help_text="Pour un référent : proposée sur ses nouveaux signalements (retenue du premier).",
    )
    is_active = models.BooleanField("actif", default=True)
    is_staff = models.BooleanField("accès à l'administration", default=False)
    date_joined = models.DateTimeField("créé le", default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = "utilisateur"
        verbose_name_plural = "utilisateurs"
        ordering = ["last_name", "first_name", "email"]

    def __str__(self):
        return self.get_full_name() or self.email

    def get_full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self):
        return self.first_name or self.email


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, and it expires."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = "jeton d'API"
        verbose_name_plural = "jetons d'API"
        indexes = [models.Index(fields=["user", "expires_at"])]

    def __str__(self):
        return f"Jeton {self.pk} de l'utilisateur {self.user_id}"


class LoginSession(models.Model):
    """A session opened by a login: what lets deactivation, a device reset or a password change end it."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="login_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "session ouverte"
        verbose_name_plural = "sessions ouvertes"

    def __str__(self):
        return f"Session {self.pk} de l'utilisateur {self.user_id}"
