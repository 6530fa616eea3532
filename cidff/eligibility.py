"""Eligibility to the TGD (art. 41-3-1 CPP): hard blocks and warnings, from the evaluation's answers."""

import datetime
from typing import NamedTuple

from dateutil.relativedelta import relativedelta
from django.db import models

from referrals.models import MeasureType, Relationship

MEASURE_MONTHS = 6
PARTNER_RELATIONSHIPS = {r for r in Relationship.values if r != Relationship.OTHER}


class VictimCategory(models.TextChoices):
    PARTNER_VIOLENCE = "partner_violence", "Violences par un (ex-)conjoint, concubin ou partenaire de PACS"
    RAPE = "rape", "Victime de viol"


class LegalBasis(models.TextChoices):
    CONTACT_BAN = "contact_ban", "Interdiction de contact prononcée"
    IMMINENT_DANGER = "imminent_danger", "Danger avéré et imminent (exception)"


class ExceptionGround(models.TextChoices):
    ON_THE_RUN = "author_on_the_run", "Auteur en fuite"
    NOT_ARRESTED = "author_not_arrested", "Auteur pas encore interpellé"
    BAN_PENDING = "ban_not_yet_pronounced", "Interdiction de contact pas encore prononcée"


BAN_FRAMEWORKS = [
    (value, label) for value, label in MeasureType.choices if value not in (MeasureType.COMPLAINT, MeasureType.OTHER)
]


def _date(value):
    if isinstance(value, datetime.date) or value is None:
        return value
    return datetime.date.fromisoformat(value)


class Finding(NamedTuple):
    criterion: str  # the eligibility key the finding is about ("relationship" for the referral's link)
    blocking: bool
    message: str


def eligibility_findings(eligibility: dict, *, relationship: str, today: datetime.date) -> list[Finding]:
    """Every blocking point and warning, each tied to the criterion it is about (French messages)."""
    findings = []

    def block(criterion, message):
        findings.append(Finding(criterion, True, message))

    category = eligibility.get("victim_category")
    if category not in VictimCategory.values:
        block("victim_category", "Précisez la catégorie de victime (violences conjugales ou viol).")
    elif category == VictimCategory.PARTNER_VIOLENCE and relationship not in PARTNER_RELATIONSHIPS:
        block(
            "relationship",
            "Hors viol, l'auteur doit être le conjoint, concubin ou partenaire de PACS de la victime, "
            "actuel ou ancien.",
        )
    cohabiting = eligibility.get("cohabiting")
    if cohabiting is None:
        block("cohabiting", "Précisez si la victime cohabite avec l'auteur.")
    elif cohabiting:
        block("cohabiting", "La victime cohabite avec l'auteur : le téléphone grave danger ne peut pas être attribué.")
    if eligibility.get("consent") is not True:
        block("consent", "Le consentement exprès de la victime est requis.")
    basis = eligibility.get("legal_basis")
    if basis == LegalBasis.CONTACT_BAN:
        if eligibility.get("ban_framework") not in dict(BAN_FRAMEWORKS):
            block("ban_framework", "Précisez le cadre de l'interdiction de contact.")
        if not eligibility.get("ban_date"):
            block("ban_date", "Précisez la date de l'interdiction de contact.")
        expiry = _date(eligibility.get("ban_expiry"))
        if expiry is not None and expiry < today:
            block("ban_expiry", f"L'interdiction de contact a pris fin le {expiry:%d/%m/%Y}.")
        elif expiry is not None and expiry < today + relativedelta(months=MEASURE_MONTHS):
            findings.append(
                Finding(
                    "ban_expiry",
                    False,
                    f"L'interdiction de contact prend fin le {expiry:%d/%m/%Y}, avant le terme d'une mesure de "
                    f"{MEASURE_MONTHS} mois : la durée pourra être réduite ou la mesure réexaminée.",
                )
            )
    elif basis == LegalBasis.IMMINENT_DANGER:
        if eligibility.get("exception_ground") not in ExceptionGround.values:
            block(
                "exception_ground",
                "Précisez le motif de l'exception (auteur en fuite, non interpellé, interdiction à venir).",
            )
        if not (eligibility.get("justification") or "").strip():
            block("justification", "Justifiez le danger avéré et imminent.")
    else:
        block("legal_basis", "Précisez le fondement : interdiction de contact ou danger avéré et imminent.")
    return findings


def eligibility_prefill(*, relationship: str, cohabiting, measures, today: datetime.date) -> dict:
    """What the referrer already typed, as a first answer of the eligibility form (the evaluator confirms it).

    The cohabitation as declared; a partner relationship gives the victim category; the judicial measure with a
    no-contact ban in a framework of art. 41-3-1 (the one in force, the latest) gives the legal basis, its
    framework, authority, date and expiry. Consent is never pre-filled: the evaluator records it herself.
    """
    data = {"cohabiting": cohabiting if isinstance(cohabiting, bool) else None}
    if relationship in PARTNER_RELATIONSHIPS:
        data["victim_category"] = VictimCategory.PARTNER_VIOLENCE
    frameworks = dict(BAN_FRAMEWORKS)
    bans = []
    for measure in measures or []:
        if not isinstance(measure, dict) or measure.get("no_contact_ban") is not True:
            continue
        if measure.get("type") not in frameworks:
            continue
        try:
            ordered, expiry = _date(measure.get("date") or None), _date(measure.get("expiry") or None)
        except (TypeError, ValueError):
            continue
        bans.append((expiry is None or expiry >= today, ordered or datetime.date.min, measure, ordered, expiry))
    if bans:
        _, _, measure, ordered, expiry = max(bans, key=lambda ban: ban[:2])
        data.update(
            {
                "legal_basis": LegalBasis.CONTACT_BAN,
                "ban_framework": measure["type"],
                "ban_authority": str(measure.get("authority") or "")[:200],
                "ban_date": ordered.isoformat() if ordered else None,
                "ban_expiry": expiry.isoformat() if expiry else None,
            }
        )
    return data


def eligibility_check(eligibility: dict, *, relationship: str, today: datetime.date) -> tuple[list[str], list[str]]:
    """(blocks, warnings) in French. Any block refuses sending the report to the parquet."""
    findings = eligibility_findings(eligibility, relationship=relationship, today=today)
    return [f.message for f in findings if f.blocking], [f.message for f in findings if not f.blocking]
