"""The permission matrix, built from the URL resolver: every web and API route that takes an object, asked by
every demo role, an anonymous visitor and a deactivated account, about objects in every state.

Each route taking an object has its ROW in `ROWS`: what its id points to, the method exercised (GET for pages,
details and downloads, POST/PATCH/DELETE for actions, with a valid body so that the services' own checks are
reached) and the expected answer, written as the services' order of checks:

    unseen → 404 (existence is never disclosed: never a 403) · seen but not permitted → 403
    · permitted in the wrong state → 409 · permitted → 2xx/3xx

A resolver route that takes an object and has no row, an action slug without its row, or a row whose route is
gone fails `test_every_route_that_takes_an_object_has_its_row`.

The expectations are computed from who holds what on each dossier of the world below, as DESIGN.md's grant table
says (author, CIDFF coordination, assigned evaluator, the jurisdiction's parquet, the operator's beneficiary
sheet), never from the policies under test. Every request runs in a savepoint rolled back after it, so every
client meets every object in the state it was built in; mismatches are collected and reported together.

Who asks (about two minutes on two cores): for each row and object, every client related to the object's dossier
(whoever holds or held a grant on it: the cases where a leak would come from), the anonymous visitor and the
deactivated account (its session, and its bearer token on the API); of the strangers to the dossier, STRANGERS
take turns, so that every stranger role meets several objects of every row and every object meets strangers on
every row. An id nobody holds (`absent`) is asked by strangers in the same way: it must answer like an unseen
object. Methods a view does not take are asked once per client on one object and the absent one (405).
"""

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import ApiToken, Role
from accounts.services import user_create, user_deactivate
from cidff import services as cidff_services
from cidff.models import Evaluation, Instrument
from cidff.views import REVIEW_ACTIONS
from core.files import store_private
from demo.world import USERS
from notifications.models import Notification
from parquet import services as parquet_services
from parquet.documents import decision_document_render
from parquet.models import Attribution, AttributionStatus, Decision, DecisionDocumentKind, Device, DeviceStatus
from parquet.views.common import DOCUMENT_SLUGS
from parquet.views.measure import MEASURE_ACTIONS
from referrals import services as referral_services
from referrals.models import Referral, ReferralDocument
from referrals.pages import DOSSIER_ACTIONS
from referrals.workflow import NotificationKind, Status
from tests import clock
from tests.auth import bearer_token
from tests.factories import TEST_PASSWORD, DeviceFactory, renewal_report
from tests.routes import resolver_routes
from tests.web.helpers import minimal_form_data

pytestmark = pytest.mark.django_db

S = Status
ROLES = tuple(USERS)  # every demo role of DESIGN.md
ANONYMOUS, DEACTIVATED, DEACTIVATED_TOKEN = "anonyme", "désactivé", "désactivé (jeton)"
LOGIN = "302→/connexion/"  # the answer to a visitor who is not signed in (web)
SUCCESS = {200, 201, 204, 302}
STRANGERS = 2  # strangers to a dossier asked about each of its objects, by turns
UNKNOWN = "inconnue"  # an action slug no view knows: 404 for everyone
NOT_SWEPT = {"api-schema", "api-docs"}  # the OpenAPI schema and its browsable docs (the admin is never walked)
# A real (minimal) PDF: uploads are read by pypdf, a file it cannot parse is refused.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\nxref\n0 4\n0000000000 65535 f \n"
    b"0000000009 00000 n \n0000000052 00000 n \n0000000101 00000 n \ntrailer<</Size 4/Root 1 0 R>>\n"
    b"startxref\n164\n%%EOF\n"
)


# --- who holds what: DESIGN.md's grant table, read on the world's facts ---------------------------------------


@dataclass(frozen=True)
class Dossier:
    """What the grant table gives on one dossier: its author, the CIDFF holding it, the evaluator assigned to it
    and the parquet a report was sent to (`matrix`: also swept by the dossier routes)."""

    status: str
    author: str = "referrer_ccas"
    cidff: str = "cidff92sud"
    evaluator: str | None = None
    parquet: str | None = None
    matrix: bool = True


EVAL, NANTERRE = "eval1_sud", "parquet_nanterre"
# The world: a dossier in every state of referrals/workflow.py, and the ways some states are reached.
DOSSIERS = {
    "draft": Dossier(S.DRAFT),
    "submitted": Dossier(S.SUBMITTED),
    "received": Dossier(S.RECEIVED),
    "received_nord": Dossier(S.RECEIVED, cidff="cidff92nord"),  # transferred by CIDFF 92 Sud
    "received_paris": Dossier(S.RECEIVED, author="referrer_police", cidff="cidffparis"),
    "evaluation": Dossier(S.EVALUATION, evaluator=EVAL),  # assigned, no evaluation started
    "evaluation_draft": Dossier(S.EVALUATION, evaluator=EVAL),  # its evaluation is a draft
    "evaluation_finalized": Dossier(S.EVALUATION, evaluator=EVAL, matrix=False),
    "evaluation_validated": Dossier(S.EVALUATION, evaluator=EVAL, matrix=False),
    "report_sent": Dossier(S.REPORT_SENT, evaluator=EVAL, parquet=NANTERRE),
    "info_requested": Dossier(S.INFO_REQUESTED, evaluator=EVAL, parquet=NANTERRE),
    "reserved": Dossier(S.RESERVED, evaluator=EVAL, parquet=NANTERRE),
    "granted": Dossier(S.GRANTED, evaluator=EVAL, parquet=NANTERRE),
    "active": Dossier(S.ACTIVE, evaluator=EVAL, parquet=NANTERRE),
    "reevaluation": Dossier(S.REEVALUATION, evaluator=EVAL, parquet=NANTERRE),  # renewal report sent
    "active_renewed": Dossier(S.ACTIVE, evaluator=EVAL, parquet=NANTERRE, matrix=False),  # second period
    "ended": Dossier(S.ENDED, evaluator=EVAL, parquet=NANTERRE),  # not renewed
    "ended_withdrawn": Dossier(S.ENDED, evaluator=EVAL, parquet=NANTERRE, matrix=False),  # phone withdrawn
    "closed_withdrawn": Dossier(S.CLOSED),  # withdrawn by its referrer once submitted
    "closed": Dossier(S.CLOSED),  # closed by the CIDFF (victim unreachable) once received
    "closed_refused": Dossier(S.CLOSED, evaluator=EVAL, parquet=NANTERRE),
    "closed_returned": Dossier(S.CLOSED, evaluator=EVAL, parquet=NANTERRE),  # phone withdrawn, then returned
}


def role(who: str) -> str:
    return USERS[who][1]


def organisation(who: str) -> str | None:
    return USERS[who][2]


def coordination(who, d: Dossier) -> bool:
    """The coordinators of the CIDFF that holds a submitted dossier: view, change."""
    return role(who) == Role.CIDFF_COORDINATOR and organisation(who) == d.cidff and d.status != S.DRAFT


def parquet(who, d: Dossier) -> bool:
    """The magistrates of the parquet a report was sent to: view, decide."""
    return role(who) == Role.PROSECUTOR and organisation(who) == d.parquet


def dossier_seen(who, d: Dossier) -> bool:
    return who == d.author or coordination(who, d) or who == d.evaluator or parquet(who, d)


def case_held(who, d: Dossier) -> bool:
    """The dossier's CIDFF and parquet (never its referrer): its evaluations, decisions, periods, deadlines."""
    return who != d.author and (coordination(who, d) or who == d.evaluator or parquet(who, d))


@dataclass
class Obj:
    """One object of the world, as the matrix asks about it."""

    kind: str
    label: str  # what a failure names: the dossier's key, the evaluation's state…
    pk: object
    dossier: Dossier | None = None
    facts: dict = field(default_factory=dict)
    absent: bool = False  # an id nobody holds: must answer exactly like an object one may not see

    def __getattr__(self, name):
        try:
            return self.__dict__["facts"][name]
        except KeyError:
            raise AttributeError(name) from None


# Predicates (who, obj) -> bool, with the status answered when they fail, in the services' order.
Check = tuple[Callable[[str, Obj], bool], object]


def _on_dossier(test) -> Callable[[str, Obj], bool]:
    return lambda who, obj: not obj.absent and test(who, obj.dossier)


SEES = (_on_dossier(dossier_seen), 404)
AUTHOR = (_on_dossier(lambda who, d: who == d.author), 403)
COORDINATE = (_on_dossier(coordination), 403)
EVALUATE = (_on_dossier(lambda who, d: who == d.evaluator), 403)
DECIDE = (_on_dossier(parquet), 403)
FOLLOW = (_on_dossier(lambda who, d: coordination(who, d) or who == d.evaluator), 403)
CHANGE = (_on_dossier(lambda who, d: (who == d.author and d.status == S.DRAFT) or coordination(who, d)
                      or who == d.evaluator), 403)  # fmt: skip
HELD = (_on_dossier(case_held), 404)


def state(*states, status=409) -> Check:
    return (lambda who, obj: obj.dossier.status in states, status)


def fact(name, status=409) -> Check:
    return (lambda who, obj: bool(obj.facts.get(name)), status)


def rule(*checks: Check, ok) -> Callable[[str, Obj], object]:
    """The first failing check answers its status; an object passing them all answers `ok`."""

    def expect(who, obj):
        for test, status in checks:
            if not test(who, obj):
                return status
        return ok

    return expect


def always(status):
    return lambda who, obj: status


# --- the table ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    route: str
    method: str
    kind: str  # which objects its id points to (the keys of World.objects)
    expect: Callable[[str, Obj], object]
    params: dict = field(default_factory=dict)  # the route's other parameters (an action slug…)
    body: Callable[[Obj], dict] | None = None
    note: str = ""
    anonymous: object = None  # the answer to a visitor not signed in, if not the default (web LOGIN, API 401)
    sample: bool = False  # the answer comes before the object is read: one object and the absent one suffice
    effect: Callable | None = None  # (who, obj) -> a problem seen in the database after the request, or None

    @property
    def api(self) -> bool:
        return self.route.startswith("api-")

    def __str__(self):
        return " ".join([self.method.upper(), self.route, *(f"{k}={v}" for k, v in self.params.items())])


def not_allowed(route, method, kind, params=None, *, anonymous=None) -> Row:
    """The method the view does not take: 405 whoever asks, before any object is read."""
    return Row(route, method, kind, always(405), params=params or {}, anonymous=anonymous, sample=True)


def upload(prefix=""):
    return lambda obj: {f"{prefix}kind": "evidence", f"{prefix}file": SimpleUploadedFile("piece.pdf", PDF)}


def today() -> str:
    return clock.today().isoformat()


ASSIGN = (lambda obj: {"assign-evaluator": obj.assign_to}, lambda obj: {"evaluator": obj.assign_to})
TRANSFER = (
    lambda obj: {"transfer-cidff": obj.other_cidff, "transfer-reason": "Secteur."},
    lambda obj: {"cidff": obj.other_cidff, "reason": "Secteur."},
)


def sister(obj) -> int:
    """Another submitted dossier of the CIDFF holding this one, which its coordination also sees (the dossier
    itself when it is alone there: CIDFF 92 Nord, CIDFF de Paris)."""
    others = Referral.objects.filter(cidff=obj.cidff_object).exclude(status=S.DRAFT).exclude(pk=obj.pk)
    return others.order_by("pk").values_list("pk", flat=True).first() or obj.pk


SISTER = ((lambda who, obj: obj.dossier.cidff == "cidff92sud"), 400)  # a dossier is not its own duplicate

DOSSIER_ROWS = [
    # pages
    Row("referral-detail", "get", "referral", rule(SEES, ok=200)),
    not_allowed("referral-detail", "post", "referral"),
    Row(
        "referral-edit",
        "get",
        "referral",
        rule(SEES, AUTHOR, state(S.DRAFT), ok=200),
    ),
    Row(
        "referral-edit",
        "post",
        "referral",
        rule(SEES, AUTHOR, state(S.DRAFT), ok=302),
        body=lambda obj: minimal_form_data(obj.cidff_object),
    ),
    # the dossier's actions (referrals.pages.DOSSIER_ACTIONS): a Conflict renders the page again with 409
    Row("referral-action", "post", "referral", rule(SEES, AUTHOR, state(S.DRAFT), ok=302), {"action": "submit"}),
    Row(
        "referral-action",
        "post",
        "referral",
        rule(SEES, COORDINATE, state(S.SUBMITTED), ok=302),
        {"action": "acknowledge"},
    ),
    Row(
        "referral-action",
        "post",
        "referral",
        rule(SEES, COORDINATE, state(S.RECEIVED, S.EVALUATION), ok=302),
        {"action": "assign"},
        body=ASSIGN[0],
        note="assign in received, reassign in evaluation",
    ),
    Row(
        "referral-action",
        "post",
        "referral",
        rule(SEES, COORDINATE, state(S.RECEIVED), ok=302),
        {"action": "transfer"},
        body=TRANSFER[0],
    ),
    Row(
        "referral-action",
        "post",
        "referral",
        rule(SEES, AUTHOR, state(S.SUBMITTED, S.RECEIVED), ok=302),
        {"action": "withdraw"},
        body=lambda obj: {"withdraw-comment": ""},
    ),
    Row(
        "referral-action",
        "post",
        "referral",
        rule(SEES, COORDINATE, state(S.RECEIVED, S.EVALUATION), ok=302),
        {"action": "close"},
        body=lambda obj: {"close-reason": "unreachable"},
    ),
    Row(
        "referral-action",
        "post",
        "referral",
        rule(SEES, AUTHOR, state(S.DRAFT), ok=302),
        {"action": "delete"},
        body=lambda obj: {"delete-confirm": "on"},
    ),
    Row("referral-action", "post", "referral", always(404), {"action": UNKNOWN}, sample=True),
    not_allowed("referral-action", "get", "referral", {"action": "submit"}),
    Row(
        "referral-document-upload",
        "post",
        "referral",
        rule(SEES, CHANGE, (lambda who, obj: obj.dossier.status != S.CLOSED, 409), ok=302),
        body=upload("piece-"),
    ),
    not_allowed("referral-document-upload", "get", "referral"),
    Row(
        "referral-duplicate",
        "post",
        "referral",
        rule(SEES, COORDINATE, SISTER, ok=302),
        body=lambda obj: {"other": sister(obj), "verdict": "linked"},
        note="linking a dossier to itself (no other dossier in its CIDFF) is refused: 400",
    ),
    not_allowed("referral-duplicate", "get", "referral"),
    # the evaluation, the decision and the phone, from the dossier
    Row(
        "evaluation-start",
        "post",
        "referral",
        rule(SEES, EVALUATE, fact("starts"), ok=302),
        note="starts: in evaluation with no open evaluation, or info requested (complement)",
    ),
    not_allowed("evaluation-start", "get", "referral"),
    Row("decision-page", "get", "referral", rule(SEES, DECIDE, ok=200)),
    Row(
        "decision-page",
        "post",
        "referral",
        rule(SEES, DECIDE, fact("decision"), ok=302),
        body=lambda obj: obj.decision,
        note="409 when no decision is awaited on the dossier's last report",
    ),
    Row("handover", "get", "referral", rule(SEES, COORDINATE, state(S.GRANTED), ok=200)),
    Row(
        "handover",
        "post",
        "referral",
        rule(SEES, COORDINATE, state(S.GRANTED), ok=302),
        body=lambda obj: {"device": obj.stock_device, "handover_date": today(), "consent": "on"},
    ),
    # the measure's actions (parquet.views.measure.MEASURE_ACTIONS), on the dossier's last period
    Row(
        "measure-action",
        "post",
        "referral",
        rule(SEES, DECIDE, (lambda who, obj: obj.has_period, 409), fact("period_active"), ok=302),
        {"action": "retrait"},
        body=lambda obj: {"retrait-reason": "withdrawn_by_victim"},
        note="acts on the last period: 409 when the dossier has none",
    ),
    Row(
        "measure-action",
        "post",
        "referral",
        rule(SEES, COORDINATE, state(S.ACTIVE), ok=302),
        {"action": "reevaluation"},
    ),
    Row(
        "measure-action",
        "post",
        "referral",
        rule(
            SEES,
            COORDINATE,
            (lambda who, obj: obj.has_period and obj.dossier.status == S.ENDED and not obj.period_active, 409),
            ok=302,
        ),
        {"action": "restitution"},
        body=lambda obj: {"restitution-returned_on": today(), "restitution-condition": "good"},
        note="acts on the last period: 409 when the dossier has none",
    ),
    Row(
        "measure-action",
        "post",
        "referral",
        rule(SEES, FOLLOW, state(S.GRANTED, S.ACTIVE, S.REEVALUATION, S.ENDED), ok=302),
        {"action": "suivi"},
        body=lambda obj: {"suivi-date": today(), "suivi-channel": "phone", "suivi-notes": "Appel de suivi."},
    ),
    Row("measure-action", "post", "referral", always(404), {"action": UNKNOWN}, sample=True),
    not_allowed("measure-action", "get", "referral", {"action": "suivi"}),
    # the legal hold (retention): the dossier's parquet puts it (lifting is the same route with `lift`)
    Row(
        "legal-hold",
        "post",
        "referral",
        rule(SEES, DECIDE, ok=302),
        body=lambda obj: {"gel-reason": "Procédure pénale en cours."},
    ),
    not_allowed("legal-hold", "get", "referral"),
    # the API
    Row("api-referral-detail", "get", "referral", rule(SEES, ok=200)),
    Row(
        "api-referral-detail",
        "patch",
        "referral",
        rule(SEES, AUTHOR, state(S.DRAFT), ok=200),
        body=lambda obj: {"facts": "Faits complétés."},
    ),
    Row("api-referral-detail", "delete", "referral", rule(SEES, AUTHOR, state(S.DRAFT), ok=204)),
    Row("api-referral-submit", "post", "referral", rule(SEES, AUTHOR, state(S.DRAFT), ok=200)),
    Row("api-referral-acknowledge", "post", "referral", rule(SEES, COORDINATE, state(S.SUBMITTED), ok=200)),
    Row(
        "api-referral-assign",
        "post",
        "referral",
        rule(SEES, COORDINATE, state(S.RECEIVED, S.EVALUATION), ok=200),
        body=ASSIGN[1],
    ),
    Row(
        "api-referral-transfer",
        "post",
        "referral",
        rule(SEES, COORDINATE, state(S.RECEIVED), ok=200),
        body=TRANSFER[1],
    ),
    Row(
        "api-referral-withdraw",
        "post",
        "referral",
        rule(SEES, AUTHOR, state(S.SUBMITTED, S.RECEIVED), ok=200),
        body=lambda obj: {},
    ),
    Row(
        "api-referral-close",
        "post",
        "referral",
        rule(SEES, COORDINATE, state(S.RECEIVED, S.EVALUATION), ok=200),
        body=lambda obj: {"reason": "unreachable"},
    ),
    Row(
        "api-referral-documents",
        "get",
        "referral",
        rule(SEES, (_on_dossier(lambda who, d: who != d.author or d.status == S.DRAFT), 403), ok=200),
        note="the referrer no longer reads the documents of a dossier she has sent: 403",
    ),
    Row(
        "api-referral-documents",
        "post",
        "referral",
        rule(SEES, CHANGE, (lambda who, obj: obj.dossier.status != S.CLOSED, 409), ok=201),
        body=upload(),
    ),
    Row("api-referral-events", "get", "referral", rule(SEES, ok=200)),
    Row(
        "api-referral-duplicates",
        "post",
        "referral",
        rule(SEES, COORDINATE, SISTER, ok=200),
        body=lambda obj: {"other": sister(obj), "verdict": "dismissed"},
    ),
]

DOCUMENT_SEEN = (
    _on_dossier(lambda who, d: dossier_seen(who, d) and not (who == d.author and d.status != S.DRAFT)),
    404,
)
DOCUMENT_ROWS = [
    Row(
        "document-download",
        "get",
        "document",
        rule(DOCUMENT_SEEN, ok=200),
        note="the referrer sees her documents while the dossier is a draft only",
    ),
    not_allowed("document-download", "post", "document"),
    Row("api-document-download", "get", "document", rule(DOCUMENT_SEEN, ok=200)),
]


def evaluation_seen(who, obj) -> bool:
    """The CIDFF holding the dossier sees its evaluations, the parquet the sent ones; the referrer never."""
    d = obj.dossier
    return who != d.author and (coordination(who, d) or who == d.evaluator or (parquet(who, d) and obj.sent))


def fills(who, obj) -> bool:
    return who == obj.by and who == obj.dossier.evaluator


EVALUATION_SEEN = (lambda who, obj: not obj.absent and evaluation_seen(who, obj), 404)
FILL = (fills, 403)
SECOND_READ = COORDINATE
VALIDATE = (lambda who, obj: coordination(who, obj.dossier) and who != obj.by, 403)
AMEND = (lambda who, obj: fills(who, obj) or coordination(who, obj.dossier), 403)
DRAFT, FINALIZED, VALIDATED = (
    (lambda who, obj, status=status: obj.status == status, 409) for status in ("draft", "finalized", "validated")
)
AMENDABLE = (lambda who, obj: obj.status in ("finalized", "validated"), 409)
RETURNABLE = (lambda who, obj: obj.status in ("finalized", "validated"), 409)  # validated too, until sent
REPORT = rule(EVALUATION_SEEN, (lambda who, obj: not obj.sent or obj.ready, 409), ok=200)

EVALUATION_ROWS = [
    Row("evaluation-edit", "get", "evaluation", rule(EVALUATION_SEEN, ok=200)),
    Row(
        "evaluation-edit",
        "post",
        "evaluation",
        rule(EVALUATION_SEEN, FILL, DRAFT, ok=302),
        body=lambda obj: {"narrative": "Synthèse reprise.", "enregistrer": "section-conclusion"},
    ),
    Row("evaluation-review", "get", "evaluation", rule(EVALUATION_SEEN, ok=200)),
    not_allowed("evaluation-review", "post", "evaluation"),
    Row(
        "evaluation-action",
        "post",
        "evaluation",
        rule(EVALUATION_SEEN, SECOND_READ, RETURNABLE, ok=302),
        {"action": "renvoyer"},
        body=lambda obj: {"renvoyer-comment": "Reprendre la section Auteur."},
    ),
    Row(
        "evaluation-action",
        "post",
        "evaluation",
        rule(EVALUATION_SEEN, VALIDATE, FINALIZED, ok=302),
        {"action": "valider"},
    ),
    Row(
        "evaluation-action",
        "post",
        "evaluation",
        rule(EVALUATION_SEEN, SECOND_READ, VALIDATED, ok=302),
        {"action": "transmettre"},
    ),
    Row("evaluation-action", "post", "evaluation", always(404), {"action": UNKNOWN}, sample=True),
    not_allowed("evaluation-action", "get", "evaluation", {"action": "valider"}),
    Row(
        "evaluation-addendum",
        "post",
        "evaluation",
        rule(EVALUATION_SEEN, AMEND, AMENDABLE, ok=302),
        body=lambda obj: {"addendum-text": "Précision."},
    ),
    not_allowed("evaluation-addendum", "get", "evaluation"),
    Row(
        "evaluation-report",
        "get",
        "evaluation",
        REPORT,
        note="a draft preview before sending; the sent report once rendered, 409 until then",
    ),
    not_allowed("evaluation-report", "post", "evaluation"),
    Row("api-evaluation-detail", "get", "evaluation", rule(EVALUATION_SEEN, ok=200)),
    Row(
        "api-evaluation-detail",
        "patch",
        "evaluation",
        rule(EVALUATION_SEEN, FILL, DRAFT, ok=200),
        body=lambda obj: {"narrative": "Synthèse reprise."},
    ),
    Row(
        "api-evaluation-addenda",
        "post",
        "evaluation",
        rule(EVALUATION_SEEN, AMEND, AMENDABLE, ok=201),
        body=lambda obj: {"text": "Précision."},
    ),
    Row("api-evaluation-finalize", "post", "evaluation", rule(EVALUATION_SEEN, FILL, DRAFT, ok=200)),
    Row("api-evaluation-validate", "post", "evaluation", rule(EVALUATION_SEEN, VALIDATE, FINALIZED, ok=200)),
    Row(
        "api-evaluation-send-back",
        "post",
        "evaluation",
        rule(EVALUATION_SEEN, SECOND_READ, RETURNABLE, ok=200),
        body=lambda obj: {"comment": "Reprendre la section Auteur."},
    ),
    Row("api-evaluation-send", "post", "evaluation", rule(EVALUATION_SEEN, SECOND_READ, VALIDATED, ok=200)),
    Row("api-evaluation-report", "get", "evaluation", REPORT),
]

DECISION_DOCUMENT = rule(HELD, fact("ready"), ok=200)
DECISION_ROWS = [
    Row("api-decision-detail", "get", "decision", rule(HELD, ok=200)),
    Row("api-decision-document", "get", "decision", DECISION_DOCUMENT, note="409 until rendered"),
    Row("decision-document", "get", "decision", DECISION_DOCUMENT, {"kind": "decision"}),
    Row(
        "decision-document",
        "get",
        "decision",
        rule(HELD, fact("sheet", status=404), fact("sheet_ready"), ok=200),
        {"kind": "fiche-beneficiaire"},
        note="404 for a decision that has no beneficiary sheet (no phone handed over on it)",
    ),
    Row("decision-document", "get", "decision", always(404), {"kind": UNKNOWN}, sample=True),
    not_allowed("decision-document", "post", "decision", {"kind": "decision"}),
]

PERIOD_SEEN = (
    lambda who, obj: not obj.absent
    and (case_held(who, obj.dossier) or (role(who) == Role.OPERATOR and obj.status == AttributionStatus.ACTIVE)),
    404,
)
SHEET = rule(PERIOD_SEEN, fact("sheet_ready"), ok=200)
ATTRIBUTION_ROWS = [
    Row("sheet-detail", "get", "attribution", rule(PERIOD_SEEN, ok=200)),
    not_allowed("sheet-detail", "post", "attribution"),
    Row(
        "sheet-alert",
        "post",
        "attribution",
        rule(
            PERIOD_SEEN,
            (lambda who, obj: role(who) == Role.OPERATOR, 403),
            (lambda who, obj: obj.status == AttributionStatus.ACTIVE, 409),
            fact("started", status=400),
            ok=302,
        ),
        note="a renewed period starts at the end of the current one: an alert of today precedes it (400)",
        body=lambda obj: {
            "alerte-occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "alerte-kind": "false_manipulation",
        },
    ),
    not_allowed("sheet-alert", "get", "attribution"),
    Row("sheet-pdf", "get", "attribution", SHEET, note="409 until rendered"),
    not_allowed("sheet-pdf", "post", "attribution"),
    Row("api-attribution-detail", "get", "attribution", rule(PERIOD_SEEN, ok=200)),
    Row("api-attribution-sheet", "get", "attribution", SHEET),
    Row(
        "api-attribution-withdraw",
        "post",
        "attribution",
        rule(
            PERIOD_SEEN,
            DECIDE,
            (
                lambda who, obj: obj.dossier.status in (S.ACTIVE, S.REEVALUATION)
                and obj.status == AttributionStatus.ACTIVE,
                409,
            ),
            ok=200,
        ),
        body=lambda obj: {"reason": "withdrawn_by_victim"},
    ),
    Row(
        "api-attribution-return-device",
        "post",
        "attribution",
        rule(
            PERIOD_SEEN,
            COORDINATE,
            (
                lambda who, obj: obj.dossier.status == S.ENDED and obj.status != AttributionStatus.ACTIVE and obj.last,
                409,
            ),
            ok=200,
        ),
        body=lambda obj: {"returned_on": today(), "condition": "good"},
    ),
]

DEVICE_SEEN = (
    lambda who, obj: not obj.absent
    and (role(who) == Role.SUPERVISOR or (role(who) == Role.CIDFF_COORDINATOR and organisation(who) == obj.cidff)),
    404,
)
NOT_ASSIGNED = (lambda who, obj: obj.status != DeviceStatus.ASSIGNED, 409)
DEVICE_ROWS = [
    Row(
        "device-detail",
        "get",
        "device",
        rule(DEVICE_SEEN, ok=200),
    ),
    Row(
        "device-detail",
        "post",
        "device",
        rule(
            DEVICE_SEEN,
            (lambda who, obj: role(who) == Role.CIDFF_COORDINATOR, 403),
            NOT_ASSIGNED,
            ok=302,
        ),
        body=lambda obj: {"etat-status": "defective"},
        note="the comité de pilotage changes phones in the admin: 403 here",
    ),
    Row("api-device-detail", "get", "device", rule(DEVICE_SEEN, ok=200)),
    Row(
        "api-device-detail",
        "patch",
        "device",
        rule(DEVICE_SEEN, NOT_ASSIGNED, ok=200),
        body=lambda obj: {"status": "defective"},
    ),
    Row(
        "api-device-detail",
        "patch",
        "device",
        rule(DEVICE_SEEN, (lambda who, obj: role(who) == Role.SUPERVISOR, 403), NOT_ASSIGNED, ok=200),
        body=lambda obj: {"organisation": obj.other_cidff},
        note="moving a phone to another CIDFF: the comité de pilotage only",
    ),
    not_allowed("api-device-detail", "put", "device"),
]

RECIPIENT = (lambda who, obj: not obj.absent and who == obj.recipient, 404)


def token_effect(who, obj):
    """Another person's token id changes nothing; the owner's is revoked."""
    if obj.absent:
        return None
    kept = ApiToken.objects.filter(pk=obj.pk).exists()
    if kept == (who == obj.owner):
        return "jeton révoqué par un autre" if not kept else "jeton non révoqué par son titulaire"
    return None


ACCOUNT_ROWS = [
    Row("notification-open", "get", "notification", rule(RECIPIENT, ok=302), note="302 to the dossier"),
    not_allowed("notification-open", "post", "notification"),
    Row("api-notification-read", "post", "notification", rule(RECIPIENT, ok=200)),
    Row(
        "token_revoke",
        "post",
        "token",
        rule((lambda who, obj: not obj.absent and who == obj.owner, 404), ok=302),
        effect=token_effect,
        note="the owner's own token is revoked (302 to the account page); any other id is a 404",
    ),
    not_allowed("token_revoke", "get", "token", anonymous=405),
    Row("api-instrument-detail", "get", "instrument", rule((lambda who, obj: not obj.absent, 404), ok=200)),
    Row(
        "password_reset_confirm",
        "get",
        "reset",
        always(200),
        {"token": "lien-perime"},
        anonymous=200,
        note="a stale link: the same « lien invalide » page for any account, existing or not",
    ),
    Row("password_reset_confirm", "post", "reset", always(200), {"token": "lien-perime"}, anonymous=200),
]

ROWS = DOSSIER_ROWS + DOCUMENT_ROWS + EVALUATION_ROWS + DECISION_ROWS + ATTRIBUTION_ROWS + DEVICE_ROWS + ACCOUNT_ROWS
# The action slugs of a route: each has its row (the registries the views dispatch on).
SLUG_REGISTRIES = {
    ("referral-action", "action"): DOSSIER_ACTIONS,
    ("evaluation-action", "action"): REVIEW_ACTIONS,
    ("measure-action", "action"): MEASURE_ACTIONS,
    ("decision-document", "kind"): DOCUMENT_SLUGS,
}


def object_routes() -> dict[str, tuple[list[str], set[str]]]:
    """name → (parameters, methods) of every route that takes an object (has a path parameter)."""
    return {
        name: (parameters, methods)
        for name, parameters, methods in resolver_routes()
        if parameters and name not in NOT_SWEPT
    }


def test_every_route_that_takes_an_object_has_its_row():
    routes = object_routes()
    covered = {(row.route, row.method) for row in ROWS}
    missing = sorted((name, method) for name, (_, methods) in routes.items() for method in methods)
    missing = [pair for pair in missing if pair not in covered]
    assert not missing, f"routes sans leur ligne dans la matrice : {missing}"
    stale = [str(row) for row in ROWS if row.route not in routes or row.method not in routes[row.route][1]]
    assert not stale, f"lignes dont la route n'existe plus : {stale}"
    for (route, parameter), registry in SLUG_REGISTRIES.items():
        slugs = {row.params[parameter] for row in ROWS if row.route == route}
        assert parameter in routes[route][0] and UNKNOWN in slugs, route
        slugs.discard(UNKNOWN)
        assert slugs == set(registry), f"{route} : sans ligne {set(registry) - slugs}, en trop {slugs - set(registry)}"
    for row in ROWS:
        object_parameters = {p for p in routes[row.route][0] if p not in row.params}
        assert len(object_parameters) == 1, f"{row} : quel paramètre désigne l'objet ? {object_parameters}"


# --- the world ----------------------------------------------------------------------------------------------


@dataclass
class World:
    objects: dict[str, list[Obj]]
    clients: dict[str, object]


def attach_document(referral, uploader) -> ReferralDocument:
    """A stored PDF on the dossier, whatever its state (closed dossiers take no upload)."""
    name, digest = store_private(PDF, folder="documents")
    return ReferralDocument.objects.create(
        referral=referral,
        kind="evidence",
        original_name="piece.pdf",
        content_type="application/pdf",
        size=len(PDF),
        sha256=digest,
        storage_name=name,
        uploaded_by=uploader,
    )


def absent(objects: list[Obj], model) -> Obj:
    """An id past the last one, with the facts of the kind's first object (the bodies read them)."""
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    first = objects[0]
    return Obj(first.kind, "absent", last + 1000, facts=dict(first.facts), absent=True)


@pytest.fixture
def matrix(world, make_referral, make_evaluation, decided, active, stock, api, monkeypatch) -> World:
    """A dossier in every state (DOSSIERS), with its documents, evaluations, decisions, periods, phones and
    notices; one signed-in client per demo role, an anonymous one and a deactivated account's.

    PDFs are laid out by a stand-in (templates are still rendered): WeasyPrint takes seconds per document.
    """
    monkeypatch.setattr("core.pdf.html_to_pdf", lambda html: PDF)

    users, orgs = world.users, world.organisations
    sud, nord, paris = orgs["cidff92sud"], orgs["cidff92nord"], orgs["cidffparis"]
    gone = user_create(
        email="coord2.cidff92sud@vigie.test",
        role=Role.CIDFF_COORDINATOR,
        organisation=sud,
        password=TEST_PASSWORD,
        first_name="Agathe",
        last_name="Dumas",
    )
    eval_paris = user_create(  # not a client: someone to assign the Paris dossier to
        email="eval.cidffparis@vigie.test",
        role=Role.EVALUATOR,
        organisation=paris,
        password=TEST_PASSWORD,
        first_name="Rose",
        last_name="Vidal",
    )
    coord, prosecutor = users["coord_sud"], users["prosecutor_nanterre"]
    phones = iter(DeviceFactory.create_batch(6, organisation=sud))
    parquet_services.device_update(user=coord, device_id=stock[2].pk, status=DeviceStatus.DEFECTIVE)

    referrals, evaluations, decisions, periods = {}, {}, {}, {}
    referrals["draft"] = make_referral("draft")
    referrals["submitted"] = make_referral("submitted")
    referrals["received"] = make_referral("received")
    referrals["received_nord"] = make_referral("received")
    referral_services.referral_transfer(
        user=coord, referral_id=referrals["received_nord"].pk, cidff_id=nord.pk, reason="Secteur nord."
    )
    referrals["received_paris"] = make_referral("received", referrer="referrer_police", cidff="cidffparis")
    referrals["evaluation"] = make_referral("evaluation")
    for step in ("draft", "finalized", "validated", "sent"):
        evaluations[step] = make_evaluation(step)
    referrals["evaluation_draft"] = evaluations["draft"].referral
    referrals["evaluation_finalized"] = evaluations["finalized"].referral
    referrals["evaluation_validated"] = evaluations["validated"].referral
    referrals["report_sent"] = evaluations["sent"].referral
    for outcome in ("info_requested", "reserved", "granted", "refused"):
        decisions[outcome] = decided(outcome)
        referrals[{"refused": "closed_refused"}.get(outcome, outcome)] = decisions[outcome].referral
    evaluations["refused"] = decisions["refused"].evaluation

    for key in ("active", "reevaluation", "active_renewed", "ended", "ended_withdrawn", "closed_returned"):
        period = active(device=next(phones))
        referrals[key], periods[key] = period.referral, period
    decisions["active"] = periods["active"].decision
    evaluations["renewal"] = renewal_report(referrals["reevaluation"])
    renewal = renewal_report(referrals["active_renewed"])
    decisions["renewed"] = parquet_services.decision_create(
        user=prosecutor, evaluation_id=renewal.pk, outcome="renewed"
    )
    periods["renewed"] = decisions["renewed"].attribution
    renewal = renewal_report(referrals["ended"])
    decisions["ended"] = parquet_services.decision_create(
        user=prosecutor, evaluation_id=renewal.pk, outcome="ended", reasoning="Danger écarté."
    )
    for key in ("ended_withdrawn", "closed_returned"):
        parquet_services.attribution_withdraw(
            user=prosecutor, attribution_id=periods[key].pk, reason="withdrawn_by_victim"
        )
    parquet_services.attribution_return(
        user=coord, attribution_id=periods["closed_returned"].pk, returned_on=clock.today(), condition="good"
    )
    referrals["closed_withdrawn"] = make_referral("withdrawn")
    referrals["closed"] = make_referral("closed")

    # The rendered documents: the sent report, the running measure's decision and beneficiary sheet.
    cidff_services.report_render(report_id=evaluations["sent"].report.pk)
    for document in decisions["active"].documents.all():
        decision_document_render(document_id=document.pk)

    # The world is what DOSSIERS says it is (the expectations are computed from DOSSIERS, not read back).
    assert set(referrals) == set(DOSSIERS)
    for key, referral in referrals.items():
        referral.refresh_from_db()
        d = DOSSIERS[key]
        evaluator = referral.evaluator.email if referral.evaluator else None
        assert (referral.status, referral.cidff.name, evaluator) == (
            d.status,
            orgs[d.cidff].name,
            USERS[d.evaluator][0] if d.evaluator else None,
        ), key

    evaluator_elsewhere = {
        "cidff92sud": users["eval2_sud"],
        "cidff92nord": users["eval_nord"],
        "cidffparis": eval_paris,
    }
    other_cidff = {"cidff92sud": nord, "cidff92nord": sud, "cidffparis": sud}
    last_period = {key: period for key, period in periods.items() if key != "renewed"} | {
        "active_renewed": periods["renewed"]
    }
    awaited = {
        "report_sent": (evaluations["sent"], "granted"),
        "reserved": (decisions["reserved"].evaluation, "granted"),
        "reevaluation": (evaluations["renewal"], "renewed"),
    }
    objects = {kind: [] for kind in ("referral", "document", "evaluation", "decision", "attribution")}
    for key, referral in referrals.items():
        d = DOSSIERS[key]
        if not d.matrix:
            continue
        period = last_period.get(key)
        decision = awaited.get(key)
        objects["referral"].append(
            Obj(
                "referral",
                key,
                referral.pk,
                d,
                {
                    "cidff_object": orgs[d.cidff],
                    "assign_to": evaluator_elsewhere[d.cidff].pk,
                    "other_cidff": other_cidff[d.cidff].pk,
                    "starts": key in ("evaluation", "info_requested"),
                    "decision": decision
                    and {"evaluation": decision[0].pk, "outcome": decision[1], "duration_months": "6", "signer": "1"},
                    "stock_device": stock[1].pk,
                    "has_period": period is not None,
                    "period_active": period is not None and key in ("active", "reevaluation"),
                },
            )
        )
        uploader = users[d.author] if d.status == S.DRAFT else coord
        objects["document"].append(Obj("document", key, attach_document(referral, uploader).pk, d))
    objects["referral"].append(absent(objects["referral"], Referral))
    objects["document"].append(absent(objects["document"], ReferralDocument))

    evaluation_dossier = {
        "draft": "evaluation_draft",
        "finalized": "evaluation_finalized",
        "validated": "evaluation_validated",
        "sent": "report_sent",
        "refused": "closed_refused",
        "renewal": "reevaluation",
    }
    for key, evaluation in evaluations.items():
        evaluation.refresh_from_db()
        facts = {
            "status": evaluation.status,
            "sent": evaluation.status == "sent",
            "ready": key == "sent",
            "by": EVAL,
        }
        label = f"{evaluation.status} ({evaluation_dossier[key]})"
        objects["evaluation"].append(Obj("evaluation", label, evaluation.pk, DOSSIERS[evaluation_dossier[key]], facts))
    objects["evaluation"].append(absent(objects["evaluation"], Evaluation))

    decision_dossier = {
        "info_requested": "info_requested",
        "reserved": "reserved",
        "granted": "granted",
        "refused": "closed_refused",
        "active": "active",
        "renewed": "active_renewed",
        "ended": "ended",
    }
    for key, decision in decisions.items():
        kinds = set(decision.documents.values_list("kind", flat=True))
        facts = {
            "ready": key == "active",
            "sheet": DecisionDocumentKind.BENEFICIARY_SHEET in kinds,
            "sheet_ready": key == "active",
        }
        label = f"{decision.outcome} ({decision_dossier[key]})"
        objects["decision"].append(Obj("decision", label, decision.pk, DOSSIERS[decision_dossier[key]], facts))
    objects["decision"].append(absent(objects["decision"], Decision))

    period_dossier = {key: key for key in periods} | {"renewed": "active_renewed"}
    for key, period in periods.items():
        period.refresh_from_db()
        facts = {
            "status": period.status,
            "started": period.start_date <= clock.today(),
            "last": period.pk == last_period[period_dossier[key]].pk,
            "sheet_ready": key == "active",
        }
        label = f"{period.status} ({period_dossier[key]}{', 1re période' if key == 'active_renewed' else ''})"
        objects["attribution"].append(Obj("attribution", label, period.pk, DOSSIERS[period_dossier[key]], facts))
    objects["attribution"].append(absent(objects["attribution"], Attribution))

    objects["device"] = [
        Obj("device", f"{device.status} ({cidff})", device.pk, facts={"cidff": cidff, "status": device.status})
        for device, cidff in (
            (Device.objects.get(pk=stock[1].pk), "cidff92sud"),
            (Device.objects.get(pk=stock[2].pk), "cidff92sud"),
            (Device.objects.get(pk=periods["active"].device_id), "cidff92sud"),
            (Device.objects.get(pk=stock[3].pk), "cidff92nord"),
        )
    ]
    for obj in objects["device"]:
        obj.facts["other_cidff"] = other_cidff[obj.cidff].pk
    objects["device"].append(absent(objects["device"], Device))

    notices = [
        ("coord_sud", NotificationKind.REFERRAL_SUBMITTED, "submitted"),
        ("coord_sud", NotificationKind.REFERRAL_SUBMITTED, "received_nord"),  # the dossier has left since
        ("referrer_ccas", NotificationKind.REFERRAL_ACKNOWLEDGED, "received"),
        ("prosecutor_nanterre", NotificationKind.REPORT_SENT, "report_sent"),
        ("eval1_sud", NotificationKind.REEVALUATION_DUE, "reevaluation"),
        ("désactivé", NotificationKind.REFERRAL_SUBMITTED, "submitted"),
    ]
    objects["notification"] = []
    for who, kind, key in notices:
        recipient = gone if who == "désactivé" else users[who]
        notice = Notification.objects.get(user=recipient, kind=kind, referral=referrals[key])
        objects["notification"].append(
            Obj("notification", f"{kind} → {who} ({key})", notice.pk, facts={"recipient": who})
        )
    objects["notification"].append(absent(objects["notification"], Notification))

    bearer_token(api(None), users["referrer_ccas"])
    token = ApiToken.objects.filter(user=users["referrer_ccas"]).get()
    objects["token"] = [Obj("token", "jeton de referrer_ccas", token.pk, facts={"owner": "referrer_ccas"})]
    objects["token"].append(absent(objects["token"], ApiToken))
    instrument = Instrument.objects.get(is_active=True, code="grille-vigie")
    objects["instrument"] = [
        Obj("instrument", instrument.code, instrument.code),
        Obj("instrument", "absent", "grille-inconnue", absent=True),
    ]
    objects["reset"] = [
        Obj("reset", "referrer_ccas", urlsafe_base64_encode(force_bytes(users["referrer_ccas"].pk))),
        Obj("reset", "désactivé", urlsafe_base64_encode(force_bytes(gone.pk))),
        Obj("reset", "absent", urlsafe_base64_encode(force_bytes(10**7)), absent=True),
    ]

    clients = {who: api(users[who]) for who in ROLES}
    clients[ANONYMOUS] = api(None)
    clients[DEACTIVATED] = api(gone)  # signed in, then deactivated: every session and token ends
    clients[DEACTIVATED_TOKEN] = api(None)
    clients[DEACTIVATED_TOKEN].defaults["HTTP_AUTHORIZATION"] = f"Bearer {bearer_token(api(None), gone)}"
    user_deactivate(actor=users["supervisor"], user=gone)
    for client in clients.values():
        client.raise_request_exception = False  # a 500 is an answer to report, with its exception
    return World(objects, clients)


# --- the sweep ----------------------------------------------------------------------------------------------


def send(client, row: Row, url: str, obj: Obj):
    method = getattr(client, row.method)
    body = row.body(obj) if row.body else None
    if body is None:
        return method(url)
    if not row.api or any(isinstance(value, SimpleUploadedFile) for value in body.values()):
        return method(url, body)  # a form, multipart
    return method(url, json.dumps(body, cls=DjangoJSONEncoder), content_type="application/json")


def answer(response):
    if response.status_code == 302 and response.url.split("?")[0] == reverse("login"):
        return LOGIN
    return response.status_code


def detail(response) -> str:
    if response.status_code >= 500:
        return f" — {response.exc_info[1]!r}" if getattr(response, "exc_info", None) else ""
    if response.get("Content-Type", "").startswith("application/json"):
        return f" — {response.content.decode()[:160]}"
    return ""


def expected_answer(row: Row, who: str, obj: Obj):
    if who in (ANONYMOUS, DEACTIVATED, DEACTIVATED_TOKEN):
        if row.anonymous is not None:
            return row.anonymous
        return 401 if row.api else LOGIN
    return row.expect(who, obj)


def related(who: str, obj: Obj) -> bool:
    """Whoever holds or held something on the object's dossier (the operator: on every period, active or not)."""
    if obj.absent:
        return False
    if obj.dossier is None:
        return True
    return dossier_seen(who, obj.dossier) or (obj.kind == "attribution" and role(who) == Role.OPERATOR)


def askers(world: World, row: Row, row_index: int, obj: Obj, obj_index: int) -> list[str]:
    """Every client but the strangers to the object's dossier, of whom STRANGERS take turns (see module doc)."""
    strangers = [] if row.sample else [who for who in ROLES if not related(who, obj)]
    start = (row_index * 5 + obj_index * STRANGERS) % len(strangers) if strangers else 0
    turn = {strangers[(start + step) % len(strangers)] for step in range(min(STRANGERS, len(strangers)))}
    return [
        who for who in world.clients if (who != DEACTIVATED_TOKEN or row.api) and (who not in strangers or who in turn)
    ]


def sweep(world: World, rows) -> tuple[list[str], Counter, Counter, dict]:
    """Every row × its objects × its clients; each request in a savepoint rolled back after it."""
    routes = object_routes()
    mismatches, asked, seconds, answers = [], Counter(), Counter(), {}
    for row_index, row in enumerate(rows):
        started = time.monotonic()
        (parameter,) = (p for p in routes[row.route][0] if p not in row.params)
        objects = world.objects[row.kind]
        if row.sample:
            objects = [objects[0], next(obj for obj in objects if obj.absent)]
        answers[str(row)] = set()
        for obj_index, obj in enumerate(objects):
            url = reverse(row.route, kwargs={**row.params, parameter: obj.pk})
            for who in askers(world, row, row_index, obj, obj_index):
                client = world.clients[who]
                expected = expected_answer(row, who, obj)
                with transaction.atomic():
                    response = send(client, row, url, obj)
                    problem = row.effect(who, obj) if row.effect and who in ROLES else None
                    transaction.set_rollback(True)
                got = answer(response)
                asked[row.kind] += 1
                answers[str(row)].add(expected)
                if got != expected or got in range(500, 600) or problem:
                    mismatches.append(
                        f"{row} · {who} · {obj.kind} {obj.label} : attendu {expected}, obtenu {got}"
                        f"{detail(response)}{f' — {problem}' if problem else ''}"
                    )
        seconds[row.kind] += time.monotonic() - started
    return mismatches, asked, seconds, answers


def test_every_route_answers_as_the_grant_table_says(matrix):
    mismatches, asked, seconds, answers = sweep(matrix, ROWS)
    print(f"\nmatrice : {len(ROWS)} lignes, {sum(asked.values())} requêtes en {sum(seconds.values()):.0f} s")
    for kind, count in asked.items():
        print(f"  {kind} : {count} requêtes, {seconds[kind]:.1f} s")
    assert not mismatches, f"{len(mismatches)} écarts à la matrice :\n" + "\n".join(mismatches)
    # The world reaches each row's success: its bodies are valid and some client is permitted.
    never = [str(row) for row in ROWS if not row.sample and not answers[str(row)] & SUCCESS]
    assert not never, f"lignes jamais permises dans ce monde : {never}"
