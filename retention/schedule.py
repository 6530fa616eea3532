"""The retention schedule, written once: what each kind of data is, when its clock starts, how long it stays,
within which legal bounds, and what the purge does to it. docs/retention.md explains each line.

Durations of dossier-bound kinds are settings of the TGD convention (`accounts.Jurisdiction`, defaults there);
the admin refuses a value outside the bounds below. Sessions and API tokens are fixed here.
"""

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta

from accounts.models import Jurisdiction

DAYS, MONTHS = "jours", "mois"


@dataclass(frozen=True)
class Rule:
    kind: str  # the code counted in the journal and shown by the dry run
    label: str
    clock: str  # the event that starts the clock
    setting: str  # the Jurisdiction field holding the duration
    unit: str
    minimum: int
    maximum: int
    source: str
    action: str

    @property
    def field(self):
        return Jurisdiction._meta.get_field(self.setting)

    @property
    def default(self) -> int:
        return self.field.default

    def duration(self, jurisdiction: Jurisdiction) -> relativedelta:
        value = getattr(jurisdiction, self.setting)
        return relativedelta(days=value) if self.unit == DAYS else relativedelta(months=value)

    def bounds_message(self) -> str:
        return f"La durée doit être comprise entre {self.minimum} et {self.maximum} {self.unit} ({self.source})."


CNIL_SOCIAL = "CNIL, délibération 2023-095 : base active 2 ans après le dernier contact"
TGD_ARRETE = "arrêté du 22 avril 2015 (TGD), art. 5"

DRAFT = Rule(
    "draft",
    "Brouillon jamais transmis",
    "dernière modification",
    "retention_draft_days",
    DAYS,
    7,
    730,
    f"minimisation (RGPD art. 5-1-c) ; au plus {CNIL_SOCIAL}",
    "supprimé avec ses pièces (il ne compte dans aucun chiffre)",
)
CLOSED = Rule(
    "closed",
    "Dossier clôturé sans mesure",
    "clôture (closed_at)",
    "retention_closed_months",
    MONTHS,
    6,
    24,
    CNIL_SOCIAL,
    "anonymisé : données personnelles effacées, chiffres conservés",
)
MEASURE = Rule(
    "measure",
    "Dossier dont la mesure a pris fin",
    "clôture après la restitution du téléphone (closed_at)",
    "retention_measure_months",
    MONTHS,
    6,
    24,
    f"{TGD_ARRETE} (durée de l'interdiction de contact, gel si elle court encore) ; {CNIL_SOCIAL}",
    "anonymisé : données personnelles effacées, chiffres conservés",
)
DOCUMENTS = Rule(
    "documents",
    "Pièces et PDF (pièces jointes, rapports, décisions, fiches)",
    "clôture du dossier (closed_at)",
    "retention_documents_months",
    MONTHS,
    1,
    24,
    f"minimisation ; au plus {CNIL_SOCIAL}",
    "fichiers effacés du stockage privé ; pièces jointes supprimées, nom de stockage des PDF vidé",
)
SHEET = Rule(
    "sheet",
    "Fiche bénéficiaire de l'opérateur de téléassistance",
    "restitution du téléphone (returned_on)",
    "retention_sheet_days",
    DAYS,
    0,
    3,
    f"{TGD_ARRETE} : effacement au plus tard 3 jours après la restitution",
    "PDF de la fiche effacé, droits de l'opérateur retirés",
)
NOTIFICATIONS = Rule(
    "notifications",
    "Notifications",
    "création",
    "retention_notification_days",
    DAYS,
    30,
    365,
    "minimisation : une notification ne sert qu'à prévenir",
    "supprimées",
)
DEADLINES = Rule(
    "deadlines",
    "Échéances d'un dossier clôturé",
    "clôture du dossier (closed_at)",
    "retention_deadline_days",
    DAYS,
    0,
    730,
    "minimisation ; au plus la durée du dossier",
    "supprimées",
)
RULES = (DRAFT, CLOSED, MEASURE, DOCUMENTS, SHEET, NOTIFICATIONS, DEADLINES)

# Fixed in code: what lets someone in has no use once expired.
SESSION_GRACE = datetime.timedelta(days=1)  # LoginSession rows whose Django session expired a day ago or more
TOKEN_GRACE = datetime.timedelta(days=0)  # API tokens, as soon as they expire
SESSIONS, TOKENS = "sessions", "tokens"
KINDS = (*(rule.kind for rule in RULES), TOKENS, SESSIONS)


def out_of_bounds(values: dict) -> dict[str, str]:
    """{setting: French message} for each duration outside its rule's legal bounds."""
    return {
        rule.setting: rule.bounds_message()
        for rule in RULES
        if values.get(rule.setting) is not None and not rule.minimum <= values[rule.setting] <= rule.maximum
    }
