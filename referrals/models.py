"""The dossier root (Referral), its journal of transitions, its documents and its grants.

Victim, author, children, facts, measures, comments and file names are encrypted at rest
(core.fields); only what the workflow and the figures need stays in clear: states, dates,
organisations, categories.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.models import Organisation, ReferrerFunction  # the referrer's function lives on her account
from core.fields import EncryptedJSONField, EncryptedTextField, PrivateFileNameField
from referrals.workflow import ClosureReason, Status


class Urgency(models.TextChoices):
    NORMAL = "normal", "Normale"
    URGENT = "urgent", "Urgente"


class Relationship(models.TextChoices):
    SPOUSE = "conjoint", "Conjoint"
    EX_SPOUSE = "ex_conjoint", "Ex-conjoint"
    CONCUBIN = "concubin", "Concubin"
    EX_CONCUBIN = "ex_concubin", "Ex-concubin"
    PACS = "pacs", "Partenaire de PACS"
    EX_PACS = "ex_pacs", "Ex-partenaire de PACS"
    OTHER = "autre", "Autre"


class CustodyStatus(models.TextChoices):
    FREE = "free", "Libre"
    ON_THE_RUN = "on_the_run", "En fuite"
    POLICE_CUSTODY = "police_custody", "En garde à vue"
    DETAINED = "detained", "Détenu"


class ChildResidence(models.TextChoices):
    VICTIM = "victim", "Chez la victime"
    AUTHOR = "author", "Chez l'auteur"
    ALTERNATE = "alternate", "Alternée"
    OTHER = "other", "Autre"


class MeasureType(models.TextChoices):
    PROTECTION_ORDER = "ordonnance_protection", "Ordonnance de protection"
    OPPI = "oppi", "Ordonnance provisoire de protection immédiate (OPPI)"
    JUDICIAL_SUPERVISION = "controle_judiciaire", "Contrôle judiciaire"
    ALTERNATIVE = "alternative_poursuites", "Alternative aux poursuites"
    PENAL_COMPOSITION = "composition_penale", "Composition pénale"
    ARSE = "arse", "Assignation à résidence sous surveillance électronique (ARSE)"
    SENTENCE = "condamnation", "Condamnation"
    SENTENCE_ADJUSTMENT = "amenagement_peine", "Aménagement de peine"
    SAFETY_MEASURE = "mesure_surete", "Mesure de sûreté"
    COMPLAINT = "plainte", "Plainte déposée"
    OTHER = "autre", "Autre"


class ReferenceCounter(models.Model):
    """Last number used per year, locked row by row: references never collide."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year} : {self.last}"


class Referral(models.Model):
    reference = models.CharField("référence", max_length=20, unique=True, editable=False)
    status = models.CharField("état", max_length=20, choices=Status.choices, default=Status.DRAFT)
    closure_reason = models.CharField("motif de clôture", max_length=32, choices=ClosureReason.choices, blank=True)

    referrer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="référent", on_delete=models.PROTECT, related_name="referrals"
    )
    referrer_organisation = models.ForeignKey(
        Organisation, verbose_name="service référent", on_delete=models.PROTECT, related_name="referrals_sent"
    )
    referrer_function = models.CharField("fonction du référent", max_length=40, choices=ReferrerFunction.choices)
    cidff = models.ForeignKey(
        Organisation, verbose_name="CIDFF", on_delete=models.PROTECT, related_name="referrals_received"
    )
    urgency = models.CharField("urgence", max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)

    victim = EncryptedJSONField("victime", default=dict)
    author = EncryptedJSONField("auteur (identité)", default=dict)
    author_relationship = models.CharField(
        "lien avec la victime", max_length=20, choices=Relationship.choices, blank=True
    )
    author_custody_status = models.CharField(
        "situation de l'auteur", max_length=20, choices=CustodyStatus.choices, blank=True
    )
    author_release_date = models.DateField("date de libération de l'auteur", null=True, blank=True)
    children = EncryptedJSONField("enfants", default=list)
    cohabiting = models.BooleanField("cohabitation avec l'auteur", null=True, blank=True)
    separation_date = models.DateField("date de séparation", null=True, blank=True)
    facts = EncryptedTextField("faits")
    complaints = EncryptedJSONField("plaintes", default=list)
    measures = EncryptedJSONField("mesures judiciaires", default=list)
    victim_informed = models.BooleanField("victime informée et d'accord", default=False)

    evaluator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="évaluatrice / évaluateur",
        on_delete=models.PROTECT,
        related_name="referrals_to_evaluate",
        null=True,
        blank=True,
    )
    # Blind indexes (referrals.indexes): HMAC of the normalised identities and phone, never decryptable.
    victim_identity_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    victim_phone_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    author_identity_index = models.CharField(max_length=64, blank=True, db_index=True, editable=False)

    created_at = models.DateTimeField("créé le", default=timezone.now)
    updated_at = models.DateTimeField("modifié le", auto_now=True)
    # when the dossier entered its status (its last event leading there): the lists' "Depuis…" column
    status_changed_at = models.DateTimeField("dans cet état depuis", default=timezone.now)
    submitted_at = models.DateTimeField("transmis le", null=True, blank=True)
    acknowledged_at = models.DateTimeField("accusé de réception le", null=True, blank=True)
    closed_at = models.DateTimeField("clôturé le", null=True, blank=True)
    anonymised_at = models.DateTimeField(
        "anonymisé le",
        null=True,
        blank=True,
        editable=False,
        help_text="Purge de conservation : données personnelles effacées, chiffres du dispositif conservés.",
    )

    class Meta:
        verbose_name = "signalement"
        verbose_name_plural = "signalements"
        ordering = ["-id"]
        permissions = [
            ("evaluate_referral", "Évaluer le danger"),
            ("decide_referral", "Décider de l'attribution"),
        ]
        indexes = [
            models.Index(fields=["status", "urgency"]),
            models.Index(fields=["cidff", "status"]),
            # The open dossiers alone, covering what the work queues count and sort by: a prosecutor's or a
            # coordination's grants reach thousands of dossiers, most of them closed, and the counters probe each
            # one here without reading the table (an index-only scan of the open fifth).
            models.Index(
                fields=["id"],
                include=["status", "urgency", "evaluator"],
                condition=~models.Q(status=Status.CLOSED),
                name="referral_open_idx",
            ),
        ]

    def __str__(self):
        return self.reference


class ReferralUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


class ReferralGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


class CaseEvent(models.Model):
    """One immutable line of the dossier's timeline: who moved it, when, from where to where."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        help_text="Vide : étape automatique de Vigie à une échéance.",
    )
    created_at = models.DateTimeField("date", default=timezone.now)
    action = models.CharField("action", max_length=32)
    from_status = models.CharField("de", max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField("vers", max_length=20, choices=Status.choices)
    comment = EncryptedTextField("commentaire")

    class Meta:
        verbose_name = "événement du dossier"
        verbose_name_plural = "événements du dossier"
        ordering = ["id"]

    def __str__(self):
        return f"{self.action} ({self.from_status} → {self.to_status})"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Un événement du dossier ne se modifie pas.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Un événement du dossier ne se supprime pas.")


class DocumentKind(models.TextChoices):
    EVIDENCE = "evidence", "Élément de preuve"
    COURT_DECISION = "court_decision", "Décision de justice"
    CERTIFICATE = "certificate", "Certificat (médical, ITT…)"
    OTHER = "other", "Autre"


class ReferralDocument(models.Model):
    """A file attached to a dossier: encrypted in private storage, checked by content."""

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField("type", max_length=20, choices=DocumentKind.choices, default=DocumentKind.EVIDENCE)
    description = EncryptedTextField("description")
    original_name = EncryptedTextField("nom du fichier")
    content_type = models.CharField("format", max_length=80)
    size = models.PositiveBigIntegerField("taille (octets)")
    sha256 = models.CharField("SHA-256", max_length=64)
    storage_name = PrivateFileNameField(max_length=80, unique=True, editable=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    created_at = models.DateTimeField("déposé le", default=timezone.now)

    class Meta:
        verbose_name = "pièce jointe"
        verbose_name_plural = "pièces jointes"
        ordering = ["id"]

    def __str__(self):
        return f"Pièce {self.pk} ({self.get_kind_display()})"


class DuplicateVerdict(models.TextChoices):
    LINKED = "linked", "Même personne (dossiers liés)"
    DISMISSED = "dismissed", "Pas la même personne (écarté)"


class DuplicateAnswer(models.Model):
    """A coordinator's answer about two dossiers flagged as possibly the same woman; one per pair.

    The pair is stored in id order (`referral` < `other`), so asking from either dossier finds it.
    """

    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="+")
    verdict = models.CharField("réponse", max_length=12, choices=DuplicateVerdict.choices)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="par", on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField("le", default=timezone.now)

    class Meta:
        verbose_name = "réponse sur un doublon possible"
        verbose_name_plural = "réponses sur les doublons possibles"
        constraints = [
            models.UniqueConstraint(fields=["referral", "other"], name="duplicate_answer_one_per_pair"),
            models.CheckConstraint(condition=models.Q(referral__lt=models.F("other")), name="duplicate_answer_ordered"),
        ]

    def __str__(self):
        return f"{self.referral_id} / {self.other_id} : {self.verdict}"
