"""The bench's world: a département's worth of fictitious dossiers and of the people who handle them.

`bench_world()` fills the bench database once, in bulk: the demo's two jurisdictions and twenty "TJ d'essai",
one parquet and one or two CIDFF each, ~2,000 referring services and, at 100,000 dossiers over three years,
~20,000 accounts (fewer, in proportion, for a smaller fill). Each dossier lives its story through the
workflow's own table (`referrals.workflow.TRANSITIONS`), cut at the present: its state, case events, object
grants (those the transitions write and revoke, the author's at creation, the operator's on running periods),
journal lines and notices are what the services would have written along the way, so that the lists, queues
and inboxes each role sees can be measured. Nothing goes through a service, a signal or a task: rows are built
in memory and copied in (PostgreSQL's COPY; the accounts with bulk_create), 5,000 dossiers per transaction.

Encrypted fields hold harmless fictitious values; the blind indexes are computed by `referrals.indexes`, so that
search by name and phone works; the access journal is sealed in order by `AccessEvent.compute_mac`, so that it
verifies. A database that already holds dossiers is reused as it is: only the cast is looked up again.
"""

import datetime
import json
import random
import time
from collections import deque
from contextlib import suppress
from dataclasses import dataclass, field
from itertools import accumulate, islice
from operator import attrgetter, itemgetter

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import Jurisdiction, Organisation, OrganisationKind, ReferrerFunction, Role, User
from accounts.roles import role_group_name
from audit.models import AccessEvent
from audit.seal import GENESIS
from cidff.instruments import compute_score, definition_items
from cidff.models import Evaluation, EvaluationKind, EvaluationStatus, Instrument
from core.calendar import midnight, morning
from core.crypto import encrypt_json
from core.fields import EncryptedJSONField
from deadlines.models import Deadline, DeadlineState
from deadlines.services import AUDIENCE, NOTICE_KIND, OBLIGATIONS
from demo.world import AUTHOR_FIRST_NAMES, FACTS, FIRST_NAMES, LAST_NAMES, seed_reference
from notifications.models import Notification
from parquet.models import (
    Alert,
    AlertKind,
    Attribution,
    AttributionGroupObjectPermission,
    AttributionStatus,
    Decision,
    Device,
    DeviceEvent,
    DeviceReturn,
    DeviceStatus,
    Outcome,
)
from parquet.services import measure_end_date
from referrals.deadline_rules import acknowledgement_and_evaluation, author_release, evaluation_delay
from referrals.indexes import referral_index_apply
from referrals.models import CaseEvent, Referral, ReferralGroupObjectPermission, ReferralUserObjectPermission
from referrals.workflow import (
    AUTHOR,
    CHANGE,
    COORDINATION,
    DECIDE,
    EVALUATE,
    EVALUATOR,
    PARQUET,
    VIEW,
    Audience,
    ClosureReason,
    DeadlineKind,
    Status,
    transition_check,
)

BATCH = 5000
DAYS = 3 * 365  # the dossiers' span
SCALE = 100_000  # the fill the head counts below are given for; smaller fills scale them down
SERVICES, REFERRERS = 2_000, 19_600
PROSECUTORS, OPERATORS, SUPERVISORS = 3, 5, 4  # prosecutors per parquet
COORDINATORS = 2  # per CIDFF, whatever the scale
EVALUATOR_DOSSIERS = 550  # dossiers an evaluator handles over the three years
EXTRA_JURISDICTIONS = 20
SECOND_CIDFF_EVERY = 4  # one TJ d'essai in four has a second CIDFF
DRAFT_DAYS = 90  # drafts older than this are deleted by the retention purge
NOTICE_DAYS = 30  # the inboxes hold the notices of the last month
DOMAIN = "banc.vigie.test"
SUPERUSER = f"administration@{DOMAIN}"

# The cast the bench measures as (the referrer is looked up: one who filed a few dossiers).
CAST = {
    "coordinator": f"coordination.1.cidff92sud@{DOMAIN}",
    "evaluator": f"evaluation.1.cidff92sud@{DOMAIN}",
    "prosecutor": f"procureur.1.parquet-nanterre@{DOMAIN}",
    "operator": f"operateur.1@{DOMAIN}",
    "supervisor": f"pilotage.1@{DOMAIN}",
    "superuser": SUPERUSER,
}
REFERRER_FEW = (3, 10)

# Relative weight of each jurisdiction's activity (a TJ d'essai weighs 1, 1.5 with two CIDFF), and each CIDFF's
# share of it: the demo's jurisdictions by key (their parquet is "parquet_<key>").
DEMO_COURTS = {
    "nanterre": (4.0, {"cidff92sud": 0.6, "cidff92nord": 0.4}),
    "paris": (3.0, {"cidffparis": 1.0}),
}
SECOND_CIDFF_SHARE = 0.35
# The growth line's smaller world: Nanterre alone, its southern CIDFF taking the share of the dossiers that
# gives its coordination as many as in the full world (~8,000 of 100,000 there, of 10,000 here).
FOCUSED_COURTS = {"nanterre": (4.0, {"cidff92sud": 0.8, "cidff92nord": 0.2})}

# Referring services: the kind in their name, the functions of their referrers, how common they are.
SERVICE_KINDS = [
    ("Commissariat", (ReferrerFunction.POLICE, ReferrerFunction.POLICE_SOCIAL_WORKER), 5),
    ("Brigade de gendarmerie", (ReferrerFunction.POLICE,), 3),
    ("CCAS", (ReferrerFunction.SOCIAL_WORKER, ReferrerFunction.RECEPTION), 4),
    ("Service social départemental", (ReferrerFunction.SOCIAL_WORKER, ReferrerFunction.PMI), 3),
    ("Centre hospitalier", (ReferrerFunction.HOSPITAL, ReferrerFunction.DOCTOR), 2),
    ("Association d'aide aux victimes", (ReferrerFunction.VICTIM_SUPPORT,), 2),
    ("SPIP", (ReferrerFunction.SPIP,), 1),
    ("Point d'accès au droit", (ReferrerFunction.LAW_ACCESS_POINT, ReferrerFunction.LAWYER), 1),
]

# A dossier's story: how often each branch is taken.
DRAFT = 0.03
URGENT = 0.25
REREFERRAL = 0.03  # the same woman (and the same author) referred again
WITHDRAWN = 0.02
TRANSFERRED = 0.04  # where the jurisdiction has a second CIDFF
CLOSED_RECEIVED = 0.08
REASSIGNED = 0.03
CLOSED_IN_EVALUATION = 0.10
RETURNED = 0.15  # of the evaluations open now: sent back by the second reading
OUTCOMES = [Outcome.GRANTED] * 60 + [Outcome.REFUSED] * 25 + [Outcome.INFO_REQUESTED] * 8 + [Outcome.RESERVED] * 7
GRANTED_AFTER_COMPLEMENT = 0.7
WITHDRAWAL = 0.08  # per period
RENEWAL, MAX_RENEWALS = 0.35, 3
ENDED_BY_DECISION = 0.3  # of the measures not renewed (the others reach their term)
LAUNCHED_BY_CIDFF = 0.5  # re-evaluations the coordination opens before Vigie does at the notice date
MEASURE_MONTHS = 6
CLOSURES = [
    ClosureReason.INELIGIBLE,
    ClosureReason.REDIRECTED,
    ClosureReason.UNREACHABLE,
    ClosureReason.WITHDRAWN_BY_VICTIM,
    ClosureReason.MOVED,
]
WITHDRAWALS = [
    ClosureReason.WITHDRAWN_BY_VICTIM,
    ClosureReason.AUTHOR_INCARCERATED,
    ClosureReason.NON_COMPLIANCE,
    ClosureReason.MOVED,
]
ALERT_KINDS = (AlertKind.REAL, AlertKind.REAL, AlertKind.FALSE, AlertKind.FALSE, AlertKind.MISSED_TEST)
ANSWER_SETS = 200
PLAIN_FIELDS = (
    models.IntegerField,
    models.CharField,
    models.TextField,
    models.BooleanField,
    models.FloatField,
    models.DateField,
    models.ForeignKey,
)
TOKENS = 50_000  # encrypted values remembered at most (the women, all different, only pass through)
REASONING = {
    Outcome.GRANTED: "Danger grave et imminent au vu du rapport.",
    Outcome.REFUSED: "Les conditions du dispositif ne sont pas réunies.",
    Outcome.INFO_REQUESTED: "Préciser la situation de l'auteur et la cohabitation.",
    Outcome.RESERVED: "Téléphone réservé jusqu'à la libération de l'auteur.",
    Outcome.RENEWED: "Le danger persiste : renouvellement.",
    Outcome.ENDED: "Le danger a cessé : fin de la mesure.",
}
HOLDERS = {"u": "user", "g": "group"}  # a grant's holder: its field in guardian's tables, its label in the journal
# The rows written without a model instance, by field name.
CASE_EVENT = ("referral", "actor", "created_at", "action", "from_status", "to_status", "comment")
GRANT = {kind: ("permission", holder, "content_object") for kind, holder in HOLDERS.items()}
NOTIFICATION = ("user", "kind", "referral", "deadline", "created_at", "read_at", "emailed_at")
JOURNAL = ("created_at", "actor", "action", "object_type", "object_id", "detail", "prev_mac", "mac")


@dataclass
class BenchWorld:
    users: dict[str, User]  # the cast the bench measures as, by key (see CAST)
    dossiers: int
    seconds: float  # time the fill took (0 when reused)
    rows: int  # rows inserted (all tables), for "rows per second"


def bench_world(*, dossiers: int = 100_000, seed: int = 2026, focused: bool = False, stdout=None) -> BenchWorld:
    """Fill the bench database once (bulk), or reuse it when it already holds dossiers.

    `focused`: one jurisdiction only (FOCUSED_COURTS), for the growth line's smaller world."""
    if connection.vendor != "postgresql":
        raise ImproperlyConfigured("Le banc d'essai tourne sur PostgreSQL (DATABASE_URL=postgres://…).")
    existing = Referral.objects.count()
    if existing:
        _say(stdout, f"Base déjà remplie ({existing} dossiers) : réutilisée telle quelle.")
        settle()  # an earlier run's writes (the load, a rolled-back purge) may not be vacuumed yet
        return BenchWorld(users=_cast(), dossiers=existing, seconds=0.0, rows=0)
    started = time.perf_counter()
    rows = _Fill(dossiers, random.Random(seed), stdout, focused=focused).run()
    settle()
    seconds = time.perf_counter() - started
    _say(stdout, f"Données générées en {seconds:.0f} s : {rows} lignes ({rows / seconds:.0f} lignes/s).")
    return BenchWorld(users=_cast(), dossiers=dossiers, seconds=seconds, rows=rows)


def settle() -> None:
    """VACUUM ANALYZE, as autovacuum leaves a base in service: index-only scans need the visibility map, which
    any write clears (a rolled-back one too) until the next vacuum; measured without it, the same query costs
    two to three times more from one run to the next (counting every dossier: 13 ms, 39 ms after the purge)."""
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _say(stdout, line: str) -> None:
    if stdout is not None:
        stdout.write(line if line.endswith("\n") else line + "\n")


def _cast() -> dict[str, User]:
    """The cast, found again by its fixed e-mails; the referrer is the first (by e-mail) who filed a few dossiers."""
    users = {user.email: user for user in User.objects.filter(email__in=CAST.values()).select_related("organisation")}
    missing = sorted(set(CAST.values()) - set(users))
    if missing:
        raise ImproperlyConfigured(
            f"Comptes du banc introuvables ({', '.join(missing)}) : base remplie autrement, recréez-la."
        )
    cast = {key: users[email] for key, email in CAST.items()}
    cast["referrer"] = (
        User.objects.filter(role=Role.REFERRER, email__endswith=f"@{DOMAIN}")
        .annotate(filed=Count("referrals"))
        .filter(filed__gte=REFERRER_FEW[0], filed__lte=REFERRER_FEW[1])
        .select_related("organisation")
        .order_by("email")
        .first()
    )
    return cast


def _scaled(count: int, fraction: float, minimum: int) -> int:
    return max(minimum, round(count * fraction))


def _days(rng: random.Random, low: float, high: float) -> datetime.timedelta:
    return datetime.timedelta(days=rng.uniform(low, high))


def _batched(iterable, size):
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


# --- the people ------------------------------------------------------------------------------------------


@dataclass
class _Court:
    """A jurisdiction as the stories need it: its parquet, its CIDFF, its referrers (skewed) and prosecutors."""

    jurisdiction: Jurisdiction
    weight: float
    parquet: Organisation
    cidffs: list[Organisation]
    shares: list[float]
    services: list[Organisation] = field(default_factory=list)
    referrers: list[tuple[int, int, str]] = field(default_factory=list)  # (user id, organisation id, function)
    referrer_weights: list[float] = field(default_factory=list)
    prosecutors: list[int] = field(default_factory=list)


class _Fill:
    """Everything one fill needs in memory: the people, the phone stock, and the journal until it is sealed."""

    def __init__(self, dossiers: int, rng: random.Random, stdout, *, focused: bool = False):
        self.count, self.rng, self.stdout = dossiers, rng, stdout
        self.demo_courts, self.extra_courts = (FOCUSED_COURTS, 0) if focused else (DEMO_COURTS, EXTRA_JURISDICTIONS)
        self.fraction = dossiers / SCALE
        self.now = timezone.now()
        self.journal_since = self.now - datetime.timedelta(days=settings.VIGIE_AUDIT_RETENTION_DAYS)
        self.notices_since = self.now - datetime.timedelta(days=NOTICE_DAYS)
        self.rows = 0
        self.database = connections[DEFAULT_DB_ALIAS]  # the connection itself, not its per-thread proxy
        self.journal: list[tuple] = []  # (timestamp, actor id, action, referral id, detail), sealed at the end
        self.details: dict[str, str] = {}  # one string per distinct journal detail
        self.tokens: dict = {}  # encrypted values, by their text or JSON
        self.victims: deque = deque(maxlen=2000)  # recent women, for re-referrals
        self.women = 0  # fictitious women so far (their phone numbers)
        self.coordinators: dict[int, list[int]] = {}
        self.evaluators: dict[int, list[int]] = {}
        self.names: dict[int, str] = {}
        self.operators: list[int] = []
        self.devices = 0  # serials handed out
        self.spare: dict[int, list[Device]] = {}

    def run(self) -> int:
        with transaction.atomic():
            self.courts = self._organisations()
            self._people()
            self._stock()
        self._say(f"Organisations, comptes et stock de téléphones : {self.rows} lignes.")
        self._reference()
        done = 0
        for chunk in _batched(self._plans(), BATCH):
            stories = [_Story(self, *plan).live() for plan in chunk]
            with transaction.atomic():
                self._insert(stories)
            done += len(chunk)
            self._say(f"  {done} dossiers…")
        self._seal_journal()
        return self.rows

    def _say(self, line: str) -> None:
        _say(self.stdout, line)

    def _bulk(self, model, objects: list) -> list:
        created = model.objects.bulk_create(objects, batch_size=BATCH)
        self.rows += len(created)
        return created

    def _copy(self, objects: list) -> list:
        """Insert model instances with COPY, several times faster than bulk_create at this size: their ids are
        drawn from the table's sequence first and set on them (in order); their foreign keys must already point
        at inserted rows. Values are prepared by their fields, encrypted ones through `token`."""
        if not objects:
            return objects
        meta = type(objects[0])._meta
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        prepare = [self._preparer(f) for f in fields]
        with self.database.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [meta.db_table, meta.pk.column, len(objects)],
            )
            for obj, (pk,) in zip(objects, sorted(cursor.fetchall()), strict=True):
                obj.pk = pk
        rows = ([obj.pk, *(value(obj) for value in prepare)] for obj in objects)
        self._copy_rows(type(objects[0]), [meta.pk.name, *(f.name for f in fields)], rows)
        return objects

    def _copy_rows(self, model, names, rows) -> None:
        """COPY rows of database-ready values (the many rows nothing points at, built without a model instance),
        in the order of the model's field `names`; a missing id is the table's next."""
        meta, quote = model._meta, self.database.ops.quote_name
        columns = ", ".join(quote(meta.get_field(name).column) for name in names)
        with (
            self.database.cursor() as cursor,
            cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                self.rows += 1

    def _preparer(self, column):
        """How a field's value goes to COPY: its token if encrypted; as it is if Django would hand it to the driver
        unchanged (numbers, texts, dates, booleans, keys); otherwise as the field prepares it to be saved."""
        if isinstance(column, EncryptedJSONField):
            return lambda obj: self.token(getattr(obj, column.attname))
        if isinstance(column, PLAIN_FIELDS) and not getattr(column, "auto_now", False):
            return attrgetter(column.attname)
        return lambda obj: column.get_db_prep_save(column.pre_save(obj, True), self.database)

    def token(self, value) -> str:
        """`value` encrypted as its field encrypts it (`core.crypto.encrypt_json`), once per distinct value while
        it is remembered: the fictitious texts repeat (empty comments, the pool's answers, the same dates)."""
        key = value if isinstance(value, str) else ("json", json.dumps(value, sort_keys=True))
        token = self.tokens.get(key)
        if token is None:
            if len(self.tokens) >= TOKENS:
                self.tokens.clear()
            token = self.tokens[key] = encrypt_json(value)
        return token

    # --- organisations and accounts ---

    def _organisations(self) -> list[_Court]:
        """The demo's jurisdictions and organisations, twenty TJ d'essai with their parquet and CIDFF, and the
        referring services spread over the jurisdictions by weight."""
        demo = seed_reference(password=None)
        self.operator_groups = list(
            Organisation.objects.filter(kind=OrganisationKind.OPERATOR, is_active=True).values_list(
                "group_id", flat=True
            )
        )
        self.operator_org = demo.organisations["operator"]
        self.slugs = {org.pk: key.replace("_", "-") for key, org in demo.organisations.items()}
        courts = [
            _Court(
                demo.jurisdictions[key],
                weight,
                demo.organisations[f"parquet_{key}"],
                [demo.organisations[cidff] for cidff in shares],
                list(shares.values()),
            )
            for key, (weight, shares) in self.demo_courts.items()
        ]
        extra = self._bulk(
            Jurisdiction,
            [
                Jurisdiction(name=f"TJ d'essai {n:02d}", departments=[f"{n:02d}"])
                for n in range(1, self.extra_courts + 1)
            ],
        )
        specs = []  # (slug, name, kind, jurisdiction)
        for n, jurisdiction in enumerate(extra, 1):
            specs.append((f"parquet-essai-{n:02d}", f"Parquet d'essai {n:02d}", OrganisationKind.PARQUET, jurisdiction))
            specs.append((f"cidff-essai-{n:02d}", f"CIDFF d'essai {n:02d}", OrganisationKind.CIDFF, jurisdiction))
            if n % SECOND_CIDFF_EVERY == 0:
                specs.append(
                    (f"cidff-essai-{n:02d}-bis", f"CIDFF d'essai {n:02d} bis", OrganisationKind.CIDFF, jurisdiction)
                )
        organisations = self._organisations_bulk(specs)
        for jurisdiction in extra:
            mine = [org for org in organisations if org.jurisdiction_id == jurisdiction.pk]
            cidffs = [org for org in mine if org.kind == OrganisationKind.CIDFF]
            shares = [1.0] if len(cidffs) == 1 else [1 - SECOND_CIDFF_SHARE, SECOND_CIDFF_SHARE]
            parquet = next(org for org in mine if org.kind == OrganisationKind.PARQUET)
            courts.append(_Court(jurisdiction, 1.0 + (len(cidffs) - 1) * 0.5, parquet, cidffs, shares))
        self._services(courts)
        return courts

    def _organisations_bulk(self, specs) -> list[Organisation]:
        """Organisations with their groups, as `organisation_create` names them (two groups for a CIDFF)."""
        groups = self._bulk(Group, [Group(name=f"org : {name}") for _, name, _, _ in specs])
        cidffs = [name for _, name, kind, _ in specs if kind == OrganisationKind.CIDFF]
        coordination = dict(
            zip(cidffs, self._bulk(Group, [Group(name=f"coordination : {name}") for name in cidffs]), strict=True)
        )
        organisations = self._bulk(
            Organisation,
            [
                Organisation(
                    name=name,
                    kind=kind,
                    jurisdiction=jurisdiction,
                    department=(jurisdiction.departments or ["00"])[0],
                    group=group,
                    coordinators_group=coordination.get(name),
                )
                for (_, name, kind, jurisdiction), group in zip(specs, groups, strict=True)
            ],
        )
        self.slugs.update({org.pk: slug for (slug, *_), org in zip(specs, organisations, strict=True)})
        return organisations

    def _services(self, courts: list[_Court]) -> None:
        """At least one referring service per jurisdiction, the others shared out by weight."""
        rng = self.rng
        count = max(2 * len(courts), _scaled(SERVICES, self.fraction, 0))
        homes = courts + rng.choices(courts, weights=[c.weight for c in courts], k=count - len(courts))
        kinds = rng.choices(SERVICE_KINDS, weights=[weight for *_, weight in SERVICE_KINDS], k=count)
        specs = [
            (
                f"service-{n:04d}",
                f"{label} d'essai {n:04d}",
                OrganisationKind.REFERRING_SERVICE,
                court.jurisdiction,
            )
            for n, (court, (label, _, _)) in enumerate(zip(homes, kinds, strict=True), 1)
        ]
        self.functions = {}
        for court, (_, functions, _), service in zip(homes, kinds, self._organisations_bulk(specs), strict=True):
            court.services.append(service)
            self.functions[service.pk] = functions

    def _people(self) -> None:
        """Referrers spread over the services (some services much busier), two coordinators and ~6 evaluators per
        CIDFF (by its expected volume), prosecutors per parquet, operators, supervisors and one superuser; each in
        the groups `user_sync_groups` gives: role, organisation, CIDFF coordination."""
        rng, fraction = self.rng, self.fraction
        role_groups = {role: Group.objects.get_or_create(name=role_group_name(role))[0].pk for role in Role}
        users, memberships = [], []

        def add(email, role, organisation=None, groups=(), **extra):
            user = User(
                email=email,
                role=role,
                organisation=organisation,
                first_name=rng.choice(FIRST_NAMES + AUTHOR_FIRST_NAMES),
                last_name=rng.choice(LAST_NAMES),
                password=make_password(None),
                is_staff=role == Role.SUPERVISOR,
                date_joined=self.now - datetime.timedelta(days=DAYS + 30),
                **extra,
            )
            users.append(user)
            org_groups = [organisation.group_id] if organisation else []
            memberships.append((user, [role_groups[role], *org_groups, *groups]))
            return user

        total_weight = sum(court.weight for court in self.courts)
        referrers = max(sum(len(court.services) for court in self.courts), _scaled(REFERRERS, fraction, 0))
        n = 0
        for court in self.courts:
            share = referrers * court.weight / total_weight
            service_weights = [rng.paretovariate(1.5) for _ in court.services]
            homes = court.services + rng.choices(
                court.services, weights=service_weights, k=max(0, round(share) - len(court.services))
            )
            for service in homes:
                n += 1
                function = rng.choice(self.functions[service.pk])
                user = add(f"referent.{n:05d}@{DOMAIN}", Role.REFERRER, service, function=function)
                court.referrers.append((user, service.pk, function))
                court.referrer_weights.append(rng.paretovariate(2.5))
            for cidff, share_in_court in zip(court.cidffs, court.shares, strict=True):
                slug = self.slugs[cidff.pk]
                expected = self.count * court.weight / total_weight * share_in_court
                self.coordinators[cidff.pk] = [
                    add(
                        f"coordination.{k}.{slug}@{DOMAIN}",
                        Role.CIDFF_COORDINATOR,
                        cidff,
                        [cidff.coordinators_group_id],
                    )
                    for k in range(1, COORDINATORS + 1)
                ]
                self.evaluators[cidff.pk] = [
                    add(f"evaluation.{k}.{slug}@{DOMAIN}", Role.EVALUATOR, cidff)
                    for k in range(1, max(2, round(expected / EVALUATOR_DOSSIERS)) + 1)
                ]
            slug = self.slugs[court.parquet.pk]
            court.prosecutors = [
                add(f"procureur.{k}.{slug}@{DOMAIN}", Role.PROSECUTOR, court.parquet)
                for k in range(1, _scaled(PROSECUTORS, fraction, 2) + 1)
            ]
        self.operators = [
            add(f"operateur.{k}@{DOMAIN}", Role.OPERATOR, self.operator_org)
            for k in range(1, _scaled(OPERATORS, fraction, 2) + 1)
        ]
        for k in range(1, _scaled(SUPERVISORS, fraction, 2) + 1):
            add(f"pilotage.{k}@{DOMAIN}", Role.SUPERVISOR)
        add(SUPERUSER, Role.SUPERVISOR, is_superuser=True)
        self._bulk(User, users)
        self._bulk(
            User.groups.through,
            [User.groups.through(user_id=user.pk, group_id=group) for user, groups in memberships for group in groups],
        )
        # from here on, people are their ids
        for court in self.courts:
            court.referrers = [(user.pk, service, function) for user, service, function in court.referrers]
            court.prosecutors = [user.pk for user in court.prosecutors]
        self.coordinators = {pk: [user.pk for user in staff] for pk, staff in self.coordinators.items()}
        self.evaluators = {pk: [user.pk for user in staff] for pk, staff in self.evaluators.items()}
        self.operators = [user.pk for user in self.operators]
        self.names = {user.pk: user.get_full_name() for user in users if user.role == Role.PROSECUTOR}
        count = sum(len(court.referrers) for court in self.courts)
        self._say(f"{len(users)} comptes ({count} référents).")

    def _stock(self) -> None:
        """Each CIDFF's spare phones, long in stock: the phones of measures that ended came from there."""
        devices = [
            self._device(cidff.pk, DeviceStatus.IN_STOCK)
            for court in self.courts
            for cidff in court.cidffs
            for _ in range(_scaled(20 + self.rng.randint(0, 150), self.fraction, 5))
        ]
        self._copy(devices)
        self._copy(
            [DeviceEvent(device=d, created_at=d.created_at, to_status=d.status, note="Banc d'essai") for d in devices],
        )
        for device in devices:
            self.spare.setdefault(device.organisation_id, []).append(device)

    def _device(self, organisation_id: int, status: str) -> Device:
        index, self.devices = self.devices, self.devices + 1
        return Device(
            organisation_id=organisation_id,
            status=status,
            serial=f"BANC{index:011d}",
            phone_number=f"09 {index // 1000000:02d} {index // 10000 % 100:02d} {index % 10000:04d}",
            created_at=self.now - datetime.timedelta(days=DAYS + 365),
        )

    def _reference(self) -> None:
        """The active grid, and a pool of filled-in answers with the scores the grid gives them."""
        rng = self.rng
        self.instrument = Instrument.objects.get(is_active=True, code=settings.VIGIE_DEFAULT_INSTRUMENT)
        items = list(definition_items(self.instrument.definition))
        self.answer_sets = []
        for _ in range(ANSWER_SETS):
            yes = rng.uniform(0.05, 0.45)
            answers = {
                code: {
                    "answer": "yes" if rng.random() < yes else rng.choice(("no", "no", "no", "unknown")),
                    "comment": "",
                }
                for code in items
            }
            self.answer_sets.append((answers, compute_score(self.instrument.definition, answers)))
        self.permissions = dict(
            Permission.objects.filter(
                content_type__app_label="referrals", codename__in=(VIEW, CHANGE, EVALUATE, DECIDE)
            ).values_list("codename", "id")
        )
        self.view_attribution = Permission.objects.get(
            content_type__app_label="parquet", codename="view_attribution"
        ).pk

    # --- the dossiers ---

    def _plans(self):
        """(number, court, referrer, moment filed, draft), numbered in the order they were filed."""
        rng, now = self.rng, self.now
        courts = rng.choices(self.courts, weights=[court.weight for court in self.courts], k=self.count)
        moments = []
        for court in courts:
            draft = rng.random() < DRAFT
            span = DRAFT_DAYS if draft else DAYS
            moments.append((now - datetime.timedelta(days=rng.uniform(0, span)), draft, court))
        moments.sort(key=itemgetter(0))
        odds = {court.jurisdiction.pk: list(accumulate(court.referrer_weights)) for court in self.courts}
        for n, (moment, draft, court) in enumerate(moments):
            referrer = rng.choices(court.referrers, cum_weights=odds[court.jurisdiction.pk])[0]
            yield n, court, referrer, moment, draft

    def coordinator(self, cidff) -> int:
        return self.rng.choice(self.coordinators[cidff.pk])

    def evaluator(self, cidff, other_than=None) -> int:
        return self.rng.choice([pk for pk in self.evaluators[cidff.pk] if pk != other_than])

    def detail(self, text: str) -> str:
        return self.details.setdefault(text, text)

    def _insert(self, stories: list["_Story"]) -> None:
        """One batch of dossiers and everything hanging from them, in dependency order."""
        referrals = self._copy([story.referral() for story in stories])
        for story, referral in zip(stories, referrals, strict=True):
            story.pk = referral.pk
        evaluations = [(story, e) for story in stories for e in story.evaluations]
        rows = self._copy([story.evaluation_row(e) for story, e in evaluations])
        for (_, evaluation), row in zip(evaluations, rows, strict=True):
            evaluation.row = row
        decisions = [(story, d) for story in stories for d in story.decisions]
        rows = self._copy([story.decision_row(d) for story, d in decisions])
        for (_, decision), row in zip(decisions, rows, strict=True):
            decision.row = row
        self._phones(stories)
        periods = [(story, p) for story in stories for p in story.periods]
        rows = self._copy([story.attribution_row(p) for story, p in periods])
        for (_, period), row in zip(periods, rows, strict=True):
            period.row = row
        self._copy([alert for story, period in periods for alert in story.alerts(period)])
        self._copy([story.return_row() for story in stories if story.returned])
        self._copy_rows(CaseEvent, CASE_EVENT, (row for story in stories for row in story.event_rows()))
        for table, kind in ((ReferralUserObjectPermission, "u"), (ReferralGroupObjectPermission, "g")):
            self._copy_rows(table, GRANT[kind], (row for story in stories for row in story.grant_rows(kind)))
        self._copy_rows(
            AttributionGroupObjectPermission,
            GRANT["g"],
            (
                (self.view_attribution, group, period.row.pk)
                for _, period in periods
                if period.status == AttributionStatus.ACTIVE
                for group in self.operator_groups
            ),
        )
        deadlines = [
            (story, d) for story, referral in zip(stories, referrals, strict=True) for d in story.deadlines(referral)
        ]
        self._copy([deadline for _, deadline in deadlines])
        for story, deadline in deadlines:
            story.deadline_notices(deadline)
        self._copy_rows(Notification, NOTIFICATION, (row for story in stories for row in story.notification_rows()))
        for story in stories:
            self.journal.extend((ts, actor, action, story.pk, detail) for ts, actor, action, detail in story.lines)

    def _phones(self, stories) -> None:
        """A phone of its own for each measure still holding one (running, or ended and not returned yet); the
        measures that ended and were returned used a phone now back in the CIDFF's stock."""
        holding = [story for story in stories if story.periods and story.status != Status.CLOSED]
        devices = [self._device(story.cidff.pk, DeviceStatus.ASSIGNED) for story in holding]
        self._copy(devices)
        events = []
        for story, device in zip(holding, devices, strict=True):
            story.device = device
            handed = _at(story.periods[0].handover)
            events.append(DeviceEvent(device=device, created_at=device.created_at, to_status=DeviceStatus.IN_STOCK))
            events.append(
                DeviceEvent(
                    device=device,
                    actor_id=story.periods[0].recorded_by,
                    created_at=handed,
                    from_status=DeviceStatus.IN_STOCK,
                    to_status=DeviceStatus.ASSIGNED,
                    note=f"Remis — dossier {story.reference}",
                )
            )
        self._copy(events)
        for story in stories:
            if story.periods and story.device is None:
                story.device = self.rng.choice(self.spare[story.cidff.pk])

    def _seal_journal(self) -> None:
        """The journal lines of the last retention period, oldest first, each sealed to the one before it by the
        journal's own `compute_mac` (as `audit.services` appends them); inserted after every dossier exists."""
        self.journal.sort(key=itemgetter(0))
        event = AccessEvent(object_type="referral")  # one instance, refilled for each line: only its seal is used
        event.prev_mac = AccessEvent.objects.order_by("-id").values_list("mac", flat=True).first() or GENESIS
        for chunk in _batched(self.journal, BATCH):
            rows = []
            for ts, actor, action, referral, detail in chunk:
                event.created_at = datetime.datetime.fromtimestamp(ts, datetime.UTC)
                event.actor_id, event.action, event.object_id, event.detail = actor, action, str(referral), detail
                event.mac = event.compute_mac()
                rows.append(
                    (event.created_at, actor, action, "referral", event.object_id, detail, event.prev_mac, event.mac)
                )
                event.prev_mac = event.mac
            with transaction.atomic():
                self._copy_rows(AccessEvent, JOURNAL, rows)
        self._say(f"Journal des accès : {len(self.journal)} événements scellés.")
        self.journal = []


def _at(day: datetime.date) -> datetime.datetime:
    """10:00, Paris time, on `day`: when things happen on a day known only as a date."""
    return morning(day) + datetime.timedelta(hours=2)


# --- one dossier's story -----------------------------------------------------------------------------------


class _NotYet(Exception):
    """The dossier's next step lies after now: its story stops there."""


@dataclass(slots=True)
class _Evaluation:
    kind: str
    evaluator: int
    second_reader: int
    answers: int  # in the fill's pool
    created: datetime.datetime
    finalized: datetime.datetime | None = None
    validated: datetime.datetime | None = None
    sent: datetime.datetime | None = None
    returned: datetime.datetime | None = None
    status: str = EvaluationStatus.DRAFT
    row: Evaluation | None = None


@dataclass(slots=True)
class _Decision:
    outcome: str
    at: datetime.datetime
    author: int
    evaluation: _Evaluation
    reserved_until: datetime.date | None = None
    row: Decision | None = None


@dataclass(slots=True)
class _Period:
    decision: _Decision
    start: datetime.date
    end: datetime.date
    handover: datetime.date
    recorded_by: int
    status: str = AttributionStatus.ACTIVE
    ended_at: datetime.datetime | None = None
    end_reason: str = ""
    copil: datetime.date | None = None
    row: Attribution | None = None

    def end_as(self, status, at, reason, copil=None) -> None:
        self.status, self.ended_at, self.end_reason, self.copil = status, at, reason, copil


class _Story:
    """One dossier's life, step by step through the workflow's table, cut at now.

    Each step takes its transition as `referrals.services.referral_move` would: state, case event, grants
    revoked from the holders as they were and granted to the holders as they are, journal lines, notices to
    the audiences who may see the dossier. The dossier's own rows are built from the story afterwards.
    """

    def __init__(self, fill: _Fill, n: int, court: _Court, referrer: tuple, filed: datetime.datetime, draft: bool):
        rng = fill.rng
        self.fill, self.rng, self.court = fill, rng, court
        self.reference = f"BANC-{n:08d}"
        self.referrer, self.service, self.function = referrer
        self.filed, self.draft = filed, draft
        self.urgent = rng.random() < URGENT
        self.cidff = rng.choices(court.cidffs, weights=court.shares)[0]
        self.transfer_to = None  # filed with the other CIDFF of the jurisdiction, which transfers it here
        if len(court.cidffs) > 1 and rng.random() < TRANSFERRED:
            self.transfer_to, self.cidff = self.cidff, next(c for c in court.cidffs if c is not self.cidff)
        self.status, self.closure_reason = Status.DRAFT, ""
        self.evaluator = self.submitted_at = self.acknowledged_at = self.closed_at = None
        self.author_release_date = None
        self.events, self.lines, self.grants, self.notices = [], [], set(), {}
        self.evaluations, self.decisions, self.periods = [], [], []
        self.returned = self.device = self.pk = None
        self._woman()

    def _woman(self) -> None:
        """The woman and the author, fictitious (or, now and then, a woman already referred)."""
        rng, fill = self.rng, self.fill
        if fill.victims and rng.random() < REREFERRAL:
            self.victim, self.author = rng.choice(fill.victims)
            return
        n, fill.women = fill.women, fill.women + 1
        born = datetime.date(1970, 1, 1) + datetime.timedelta(days=rng.randint(0, 12_000))
        self.victim = {
            "last_name": rng.choice(LAST_NAMES),
            "first_name": rng.choice(FIRST_NAMES),
            "birth_date": born.isoformat(),
            "phone": f"07 00 {n // 10000 % 100:02d} {n // 100 % 100:02d} {n % 100:02d}",  # one per woman
            "safe_contact": "Appeler sur le portable, ne pas laisser de message.",
            "language": "français",
        }
        self.author = {
            "last_name": rng.choice(LAST_NAMES),
            "first_name": rng.choice(AUTHOR_FIRST_NAMES),
            "birth_date": (born - datetime.timedelta(days=rng.randint(-1500, 4000))).isoformat(),
        }
        fill.victims.append((self.victim, self.author))

    def live(self) -> "_Story":
        with suppress(_NotYet):
            self._file()
        return self

    # --- the steps ---

    def step(self, action: str, at: datetime.datetime, actor: int | None, comment: str = "", **changes) -> None:
        """Take the transition `action` at `at`, or end the story there if `at` is still to come."""
        if at > self.fill.now:
            raise _NotYet
        transition = transition_check(self, action)
        before = {rule.holder: self._holder(rule.holder) for rule in transition.revoke}
        source, self.status = self.status, transition.target(self.status)
        for name, value in changes.items():
            setattr(self, name, value)
        self.events.append((action, at, actor, source, self.status, comment))
        if actor is not None:
            self._line(at - datetime.timedelta(minutes=self.rng.uniform(1, 30)), actor, "referral.view")
        self._line(at, actor, f"referral.{action}")
        for rule in transition.revoke:
            if before[rule.holder] is not None:
                self._grant(at, actor, before[rule.holder], rule.perms, revoke=True)
        for rule in transition.grant:
            holder = self._holder(rule.holder)
            if holder is not None:
                self._grant(at, actor, holder, rule.perms)
        for kind, audiences in transition.tell:
            self._tell(at, kind, audiences)

    def _holder(self, name: str) -> tuple[str, int] | None:
        """What `referrals.permissions.holder_of` resolves `name` to, as ("u"|"g", id)."""
        if name == AUTHOR:
            return ("u", self.referrer)
        if name == COORDINATION:
            return ("g", self.cidff.coordinators_group_id)
        if name == EVALUATOR:
            return ("u", self.evaluator) if self.evaluator else None
        if name == PARQUET:
            return ("g", self.court.parquet.group_id)
        raise ValueError(name)

    def _grant(self, at, actor, holder, perms, revoke=False) -> None:
        for perm in perms:
            (self.grants.discard if revoke else self.grants.add)((*holder, perm))
            label = self.fill.detail(f"{perm}→{HOLDERS[holder[0]]}:{holder[1]}")
            self._line(at, actor, "revoke" if revoke else "grant", label)

    def _line(self, at, actor, action: str, detail: str = "") -> None:
        if at >= self.fill.journal_since:
            self.lines.append((at.timestamp(), actor, action, detail))

    def _tell(self, at, kind: str, audiences, deadline=None) -> None:
        """A notice to those of the audiences who may see the dossier now; the latest of a kind replaces the last."""
        if at < self.fill.notices_since:
            return
        for audience in audiences:
            for user, holder in self._audience(audience):
                if (*holder, VIEW) in self.grants and self.notices.get((user, kind), (at,))[0] <= at:
                    self.notices[(user, kind)] = (at, deadline)

    def _audience(self, audience: str) -> list[tuple[int, tuple[str, int]]]:
        """`referrals.selectors.audience_users`: each user with the holder her view of the dossier comes through."""
        if audience == Audience.REFERRER:
            return [(self.referrer, ("u", self.referrer))]
        if audience == Audience.COORDINATORS:
            group = ("g", self.cidff.coordinators_group_id)
            return [(user, group) for user in self.fill.coordinators[self.cidff.pk]]
        if audience == Audience.EVALUATOR:
            return [(self.evaluator, ("u", self.evaluator))] if self.evaluator else []
        group = ("g", self.court.parquet.group_id)
        return [(user, group) for user in self.court.prosecutors]

    # --- the story ---

    def _file(self) -> None:
        """Drafted, filed, acknowledged (perhaps transferred), closed or assigned, evaluated, decided."""
        rng, fill = self.rng, self.fill
        self.created = self.filed - datetime.timedelta(minutes=rng.uniform(10, 600))
        self.events.append(("create", self.created, self.referrer, "", Status.DRAFT, ""))
        self._line(self.created, self.referrer, "referral.create")
        self._grant(self.created, self.referrer, ("u", self.referrer), (VIEW, CHANGE))  # referral_create's grant
        if self.draft:
            return
        at = self.filed
        self.step("submit", at, self.referrer, submitted_at=at)
        if rng.random() < WITHDRAWN:
            at += datetime.timedelta(hours=rng.uniform(1, 48))
            self.step(
                "withdraw",
                at,
                self.referrer,
                "Orientation vers un autre dispositif.",
                closure_reason=ClosureReason.WITHDRAWN_BY_REFERRER,
                closed_at=at,
            )
            return
        at += datetime.timedelta(hours=rng.uniform(0.5, 20) if self.urgent else rng.uniform(2, 72))
        self.step("acknowledge", at, fill.coordinator(self.cidff), acknowledged_at=at)
        if self.transfer_to:
            at += datetime.timedelta(hours=rng.uniform(1, 24))
            reason = "Domicile de la victime dans le secteur de l'autre CIDFF."
            self.step("transfer", at, fill.coordinator(self.cidff), reason, cidff=self.transfer_to)
        if rng.random() < CLOSED_RECEIVED:
            self._close(at + _days(rng, 0.5, 10))
            return
        at += datetime.timedelta(hours=rng.uniform(0.5, 4) if self.urgent else rng.uniform(2, 48))
        self.step("assign", at, fill.coordinator(self.cidff), evaluator=fill.evaluator(self.cidff))
        if rng.random() < REASSIGNED:
            at += _days(rng, 0.5, 3)
            other = fill.evaluator(self.cidff, other_than=self.evaluator)
            self.step("reassign", at, fill.coordinator(self.cidff), evaluator=other)
        if rng.random() < CLOSED_IN_EVALUATION:
            self._close(at + _days(rng, 1, 10))
            return
        self._decide_initial(self._evaluate(EvaluationKind.INITIAL, at))

    def _close(self, at) -> None:
        reason = self.rng.choice(CLOSURES)
        self.step("close", at, self.fill.coordinator(self.cidff), closure_reason=reason, closed_at=at)

    def _evaluate(self, kind: str, start) -> _Evaluation:
        """The evaluator fills the grid, the coordination reads it a second time and sends it to the parquet."""
        rng, now = self.rng, self.fill.now
        hurry = 0.3 if self.urgent else 1.0
        evaluation = _Evaluation(
            kind=kind,
            evaluator=self.evaluator,
            second_reader=self.fill.coordinator(self.cidff),
            answers=rng.randrange(ANSWER_SETS),
            created=start + _days(rng, 0.1, 2) * hurry,
        )
        if evaluation.created > now:
            raise _NotYet
        self.evaluations.append(evaluation)
        finalized = evaluation.created + _days(rng, 1, 4) * hurry
        validated = finalized + _days(rng, 0.1, 1.5) * hurry
        sent = validated + _days(rng, 0.01, 0.5)
        if finalized > now:
            raise _NotYet
        if validated > now or sent > now:
            if rng.random() < RETURNED:  # sent back by the second reading: a draft again
                evaluation.returned = finalized + (now - finalized) * rng.random()
                raise _NotYet
            evaluation.finalized, evaluation.status = finalized, EvaluationStatus.FINALIZED
            if validated <= now:
                evaluation.validated, evaluation.status = validated, EvaluationStatus.VALIDATED
            raise _NotYet
        evaluation.finalized, evaluation.validated = finalized, validated
        evaluation.sent, evaluation.status = sent, EvaluationStatus.SENT
        self.step("report_sent", sent, evaluation.second_reader)
        return evaluation

    def _decide(self, report, outcome, at, action, reserved_until=None, **changes) -> _Decision:
        prosecutor = self.rng.choice(self.court.prosecutors)
        self.step(action, at, prosecutor, **changes)
        decision = _Decision(outcome, at, prosecutor, report, reserved_until)
        self.decisions.append(decision)
        return decision

    def _decide_initial(self, report) -> None:
        rng = self.rng
        at = report.sent + _days(rng, 0.2, 6)
        outcome = rng.choice(OUTCOMES)
        if outcome == Outcome.INFO_REQUESTED:
            self._decide(report, outcome, at, "decision_info_requested")
            report = self._evaluate(EvaluationKind.COMPLEMENT, at)
            at = report.sent + _days(rng, 0.2, 6)
            outcome = Outcome.GRANTED if rng.random() < GRANTED_AFTER_COMPLEMENT else Outcome.REFUSED
        elif outcome == Outcome.RESERVED:
            until = timezone.localdate(at + _days(rng, 10, 60))
            self._decide(report, outcome, at, "decision_reserved", until, author_release_date=until)
            at, outcome = _at(until), Outcome.GRANTED
        if outcome == Outcome.REFUSED:
            self._decide(report, outcome, at, "decision_refused", closure_reason=ClosureReason.REFUSED, closed_at=at)
            return
        self._measure(self._decide(report, Outcome.GRANTED, at, "decision_granted"))

    def _measure(self, decision) -> None:
        """Handover, then periods of six months: withdrawn, renewed on a renewal report, or ended; the phone back."""
        rng, fill = self.rng, self.fill
        convention = self.cidff.jurisdiction
        at = decision.at + _days(rng, 1, 10)
        coordinator = fill.coordinator(self.cidff)
        self.step("handover", at, coordinator)
        start = timezone.localdate(at)
        period = _Period(decision, start, measure_end_date(start, MEASURE_MONTHS), start, coordinator)
        self.periods.append(period)
        for renewals in range(MAX_RENEWALS + 1):
            notice = morning(period.end - datetime.timedelta(days=convention.reevaluation_notice_days))
            withdrawn = _at(period.start) + _days(rng, 10, 150)
            if rng.random() < WITHDRAWAL and withdrawn < notice:
                self.step("withdrawal", withdrawn, rng.choice(self.court.prosecutors))
                reason = rng.choice(WITHDRAWALS)
                copil = (
                    timezone.localdate(withdrawn - _days(rng, 3, 20))
                    if reason == ClosureReason.NON_COMPLIANCE
                    else None
                )
                period.end_as(AttributionStatus.WITHDRAWN, withdrawn, reason, copil)
                break
            if rng.random() < LAUNCHED_BY_CIDFF:
                at = notice - _days(rng, 0, 5)
                self.step("reevaluation", at, fill.coordinator(self.cidff))
            else:
                at = notice
                self.step("reevaluation_requested", at, None)
            report = self._evaluate(EvaluationKind.RENEWAL, at)
            at = report.sent + _days(rng, 1, 5)
            if renewals < MAX_RENEWALS and rng.random() < RENEWAL:
                renewed = self._decide(report, Outcome.RENEWED, at, "decision_renewed")
                period.end_as(AttributionStatus.ENDED, at, "renewed")
                end = measure_end_date(period.end, MEASURE_MONTHS)
                period = _Period(renewed, period.end, end, period.handover, renewed.author)
                self.periods.append(period)
                continue
            if rng.random() < ENDED_BY_DECISION:
                self._decide(report, Outcome.ENDED, at, "decision_ended")
            else:
                at = midnight(period.end)
                self.step("term_reached", at, None)
            period.end_as(AttributionStatus.ENDED, at, ClosureReason.MEASURE_ENDED)
            break
        at = period.ended_at + _days(rng, 1, 20)
        reason = period.end_reason if period.end_reason in ClosureReason.values else ClosureReason.MEASURE_ENDED
        coordinator = fill.coordinator(self.cidff)
        self.step("device_returned", at, coordinator, closure_reason=reason, closed_at=at)
        self.returned = (timezone.localdate(at), coordinator)

    # --- the rows ---

    def referral(self) -> Referral:
        rng = self.rng
        release = self.author_release_date  # set when the parquet reserved a phone until the release
        custody = "detained" if release else rng.choice(("free", "free", "free", "detained", "on_the_run"))
        if custody == "detained" and release is None:
            release = timezone.localdate(self.filed) + _days(rng, 20, 400)
        referral = Referral(
            reference=self.reference,
            status=self.status,
            closure_reason=self.closure_reason,
            referrer_id=self.referrer,
            referrer_organisation_id=self.service,
            referrer_function=self.function,
            cidff=self.cidff,
            urgency="urgent" if self.urgent else "normal",
            victim=self.victim,
            author=self.author,
            author_relationship=rng.choice(("ex_conjoint", "ex_concubin", "ex_pacs", "conjoint")),
            author_custody_status=custody,
            author_release_date=release,
            cohabiting=False,
            separation_date=timezone.localdate(self.filed) - _days(rng, 10, 300),
            facts=rng.choice(FACTS),
            measures=[{"type": "ordonnance_protection", "authority": "JAF", "no_contact_ban": True}],
            victim_informed=True,
            evaluator_id=self.evaluator,
            created_at=self.created,
            status_changed_at=next(at for _, at, _, _, target, _ in reversed(self.events) if target == self.status),
            submitted_at=self.submitted_at,
            acknowledged_at=self.acknowledged_at,
            closed_at=self.closed_at,
        )
        referral_index_apply(referral)
        return referral

    def evaluation_row(self, e: _Evaluation) -> Evaluation:
        answers, score = self.fill.answer_sets[e.answers]
        finalized = e.status != EvaluationStatus.DRAFT
        filled = finalized or e.returned is not None
        raised = finalized and score.level != "severe" and self.rng.random() < 0.1
        sent_day = timezone.localdate(e.sent or e.created)
        return Evaluation(
            referral_id=self.pk,
            kind=e.kind,
            status=e.status,
            instrument=self.fill.instrument,
            evaluator_id=e.evaluator,
            interview={"dates": [timezone.localdate(e.created).isoformat()], "place": "Locaux du CIDFF"},
            answers=answers if filled else dict(islice(answers.items(), len(answers) // 2)),
            eligibility={
                "victim_category": "partner_violence",
                "cohabiting": False,
                "consent": True,
                "legal_basis": "contact_ban",
                "ban_expiry": (sent_day + datetime.timedelta(days=400)).isoformat(),
            },
            judgement="severe" if raised else "",
            judgement_reason="Menaces de mort réitérées." if raised else "",
            narrative="Synthèse fictive de l'entretien." if finalized else "",
            recommendation=["phone"] if finalized else [],
            returned_comment="Préciser les faits récents." if e.returned else "",
            score_weighted=score.weighted if finalized else None,
            score_red=score.red if finalized else None,
            score_unknown=score.unknown if finalized else None,
            computed_level=score.level if finalized else "",
            final_level=("severe" if raised else score.level) if finalized else "",
            incomplete=score.incomplete if finalized else False,
            created_at=e.created,
            finalized_at=e.finalized,
            returned_at=e.returned,
            validated_at=e.validated,
            validated_by_id=e.second_reader if e.validated else None,
            sent_at=e.sent,
        )

    def decision_row(self, d: _Decision) -> Decision:
        lasting = d.outcome in (Outcome.GRANTED, Outcome.RENEWED)
        return Decision(
            referral_id=self.pk,
            evaluation=d.evaluation.row,
            outcome=d.outcome,
            reasoning=REASONING[d.outcome],
            duration_months=MEASURE_MONTHS if lasting else None,
            reserved_until=d.reserved_until,
            author_id=d.author,
            signed_by=self.fill.names[d.author],
            signed_at=d.at,
        )

    def attribution_row(self, p: _Period) -> Attribution:
        return Attribution(
            referral_id=self.pk,
            decision=p.decision.row,
            device=self.device,
            handover_date=p.handover,
            start_date=p.start,
            end_date=p.end,
            consent=True,
            geolocation_consent=True,
            status=p.status,
            ended_at=p.ended_at,
            end_reason=p.end_reason,
            copil_opinion_date=p.copil,
            recorded_by_id=p.recorded_by,
            created_at=p.decision.at if p.decision.outcome == Outcome.RENEWED else _at(p.start),
        )

    def alerts(self, p: _Period) -> list[Alert]:
        """None to two per period, between its start and its end (or now)."""
        rng = self.rng
        first, last = _at(p.start), min(p.ended_at or midnight(p.end), self.fill.now)
        if last <= first:
            return []
        alerts = []
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
            kind = rng.choice(ALERT_KINDS)
            police = kind == AlertKind.REAL and rng.random() < 0.6
            occurred = first + (last - first) * rng.random()
            alerts.append(
                Alert(
                    attribution=p.row,
                    occurred_at=occurred,
                    kind=kind,
                    police_intervention=police,
                    arrest=police and rng.random() < 0.3,
                    notes="Alerte fictive.",
                    reported_by_id=rng.choice(self.fill.operators),
                    created_at=min(occurred + datetime.timedelta(minutes=rng.uniform(2, 60)), self.fill.now),
                )
            )
        return alerts

    def return_row(self) -> DeviceReturn:
        day, coordinator = self.returned
        return DeviceReturn(
            referral_id=self.pk,
            device=self.device,
            returned_on=day,
            condition="good",
            recorded_by_id=coordinator,
            created_at=_at(day),
        )

    def event_rows(self) -> list[tuple]:
        """CaseEvent rows (CASE_EVENT), in the order they happened."""
        token = self.fill.token
        return [
            (self.pk, actor, at, action, source, target, token(comment))
            for action, at, actor, source, target, comment in self.events
        ]

    def grant_rows(self, kind: str) -> list[tuple]:
        """The grants the dossier holds now, to users ("u") or groups ("g"): (permission, holder, dossier)."""
        permissions = self.fill.permissions
        return [(permissions[perm], holder, self.pk) for table, holder, perm in self.grants if table == kind]

    def deadlines(self, referral: Referral) -> list[Deadline]:
        """What the registered rules would watch on the dossier as it stands: the referrals rules are called as
        they are; the report, decision and measure rules (parquet.deadline_rules, which query) are followed from
        the story. Passed due: an obligation is overdue, a reminder met, both raised by the scan."""
        now, rng = self.fill.now, self.rng
        if self.status in (Status.DRAFT, Status.CLOSED):
            return []
        convention = self.cidff.jurisdiction
        wanted = acknowledgement_and_evaluation(referral, now) | author_release(referral, now)
        sent = [e for e in self.evaluations if e.status == EvaluationStatus.SENT]
        if self.status == Status.INFO_REQUESTED:
            wanted[(DeadlineKind.EVALUATION, 0)] = (self.decisions[-1].at + evaluation_delay(referral), None)
        awaiting = self.status == Status.REPORT_SENT or (
            self.status == Status.REEVALUATION
            and sent
            and sent[-1].kind == EvaluationKind.RENEWAL
            and all(d.evaluation is not sent[-1] for d in self.decisions)
        )
        if awaiting:
            due = sent[-1].sent + datetime.timedelta(days=convention.decision_reminder_days)
            wanted[(DeadlineKind.DECISION, 0)] = (due, None)
        if self.status == Status.ENDED:
            due = self.periods[-1].ended_at + datetime.timedelta(days=convention.device_return_days)
            wanted[(DeadlineKind.DEVICE_RETURN, 0)] = (due, None)
        if self.status in (Status.ACTIVE, Status.REEVALUATION):
            term = next(p for p in self.periods if p.status == AttributionStatus.ACTIVE).end
            reminder = convention.term_reminder_days
            wanted[(DeadlineKind.TERM_REMINDER, reminder)] = (morning(term - datetime.timedelta(days=reminder)), term)
            wanted[(DeadlineKind.TERM, 0)] = (midnight(term), term)
            if self.status == Status.ACTIVE:
                notice = convention.reevaluation_notice_days
                wanted[(DeadlineKind.REEVALUATION, notice)] = (morning(term - datetime.timedelta(days=notice)), term)
        opened = self.events[-1][1]
        deadlines = []
        for (kind, days), (due, reference) in wanted.items():
            deadline = Deadline(
                referral_id=self.pk,
                kind=kind,
                due_at=due,
                reference_date=reference,
                days_before=days,
                opened_at=min(opened, due),
            )
            raised = due + datetime.timedelta(minutes=rng.uniform(1, 15))
            if raised <= now:
                deadline.raised_at = raised
                if kind in OBLIGATIONS:
                    deadline.state = DeadlineState.OVERDUE
                else:
                    deadline.state, deadline.closed_at = DeadlineState.MET, raised
            deadlines.append(deadline)
        return deadlines

    def deadline_notices(self, deadline: Deadline) -> None:
        if deadline.raised_at and deadline.kind in NOTICE_KIND:
            self._tell(deadline.raised_at, NOTICE_KIND[deadline.kind], AUDIENCE[deadline.kind], deadline)

    def notification_rows(self) -> list[tuple]:
        """Read within two days, mostly, once a few days old; the e-mail copy went out a minute later."""
        rng, now = self.rng, self.fill.now
        rows = []
        for (user, kind), (at, deadline) in self.notices.items():
            read = None
            if now - at > datetime.timedelta(days=3) and rng.random() < 0.85:
                read = min(at + datetime.timedelta(hours=rng.uniform(0.2, 48)), now)
            mailed = at + datetime.timedelta(minutes=1)
            rows.append((user, kind, self.pk, deadline and deadline.pk, at, read, mailed if mailed <= now else None))
        return rows
