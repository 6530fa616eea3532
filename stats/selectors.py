"""The figures of the scheme, computed by SQL aggregation: never one query, nor one Python step, per dossier.

Every figure is scoped (`stats_scope`): the supervisor sees everything, or one jurisdiction; a CIDFF
coordinator the dossiers addressed to her CIDFF and its phones; a prosecutor the dossiers and phones of
his jurisdiction. Counts only: no figure reads an encrypted field or names a person.
"""

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.core.cache import cache
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import formats, timezone

from accounts.models import Jurisdiction, Organisation, Role
from cidff.models import Evaluation, EvaluationKind, EvaluationStatus, Instrument
from core.calendar import midnight
from core.exceptions import Forbidden, NotFound
from deadlines.models import Deadline, DeadlineState
from parquet.models import (
    WITHDRAWAL_REASONS,
    Alert,
    AlertKind,
    Attribution,
    AttributionStatus,
    Decision,
    Device,
    DeviceEvent,
    DeviceStatus,
    Outcome,
)
from referrals.models import Referral, ReferrerFunction
from referrals.workflow import ClosureReason, DeadlineKind

STATS_ROLES = (Role.SUPERVISOR, Role.CIDFF_COORDINATOR, Role.PROSECUTOR)
REFUSED = "Les chiffres du dispositif sont réservés au comité de pilotage, à la coordination des CIDFF et au parquet."


# --- who sees what, over which period ---------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The dossiers and phones a figure counts: one CIDFF, one jurisdiction, or everything (both None)."""

    jurisdiction: Jurisdiction | None = None
    cidff: Organisation | None = None

    @property
    def label(self) -> str:
        if self.cidff is not None:
            return f"{self.cidff.name} ({self.jurisdiction.name})"
        return self.jurisdiction.name if self.jurisdiction else "Toutes les juridictions"

    def referrals(self, prefix: str = "") -> Q:
        """Filter on the dossier reached through `prefix` (e.g. "referral__")."""
        return self._q(f"{prefix}cidff")

    def devices(self) -> Q:
        return self._q("organisation")

    def _q(self, organisation: str) -> Q:
        q = Q()
        if self.cidff is not None:
            q &= Q(**{f"{organisation}_id": self.cidff.pk})
        if self.jurisdiction is not None:
            q &= Q(**{f"{organisation}__jurisdiction_id": self.jurisdiction.pk})
        return q


def can_see_stats(user) -> bool:
    """Supervisors, CIDFF coordinators and prosecutors (the latter two through their organisation)."""
    if not user.is_authenticated or user.role not in STATS_ROLES:
        return False
    return user.role == Role.SUPERVISOR or user.organisation_id is not None


def stats_check_access(user) -> None:
    """Checked before the parameters: a refused role learns nothing from a 400."""
    if not can_see_stats(user):
        raise Forbidden(REFUSED)


def stats_scope(*, user, jurisdiction: Jurisdiction | None = None) -> Scope:
    """The user's scope, narrowed to `jurisdiction` if asked.

    A coordinator or a prosecutor is tied to the jurisdiction of their organisation: asking for
    another one answers NotFound (404) rather than their own figures under another name, so that a
    report is never mislabelled. Other roles are refused (Forbidden, 403).
    """
    stats_check_access(user)
    if user.role == Role.SUPERVISOR:
        return Scope(jurisdiction=jurisdiction)
    organisation = user.organisation
    if jurisdiction is not None and jurisdiction.pk != organisation.jurisdiction_id:
        raise NotFound("Juridiction introuvable.")
    cidff = organisation if user.role == Role.CIDFF_COORDINATOR else None
    return Scope(jurisdiction=organisation.jurisdiction, cidff=cidff)


@dataclass(frozen=True)
class Period:
    """Whole days in Europe/Paris, `end` included."""

    start: datetime.date
    end: datetime.date

    @property
    def since(self) -> datetime.datetime:
        return midnight(self.start)

    @property
    def until(self) -> datetime.datetime:
        """The first instant after the period."""
        return midnight(self.end + datetime.timedelta(days=1))

    def q(self, name: str) -> Q:
        """`name` (a datetime field) within the period."""
        return Q(**{f"{name}__gte": self.since, f"{name}__lt": self.until})

    def months(self) -> list[datetime.date]:
        months, month = [], self.start.replace(day=1)
        while month <= self.end:
            months.append(month)
            month += relativedelta(months=1)
        return months


def default_period(today: datetime.date | None = None) -> Period:
    """The last twelve calendar months, the current one included (so that every month bar is whole but one)."""
    today = today or timezone.localdate()
    return Period(start=today.replace(day=1) - relativedelta(months=11), end=today)


def quarter_period(year: int, quarter: int) -> Period:
    start = datetime.date(year, 3 * quarter - 2, 1)
    return Period(start=start, end=start + relativedelta(months=3, days=-1))


def last_complete_quarter(today: datetime.date | None = None) -> tuple[int, int]:
    today = today or timezone.localdate()
    quarter = (today.month - 1) // 3  # the current quarter minus one, 0 meaning last year's fourth
    return (today.year, quarter) if quarter else (today.year - 1, 4)


QUARTER_ORDINALS = {1: "1er", 2: "2e", 3: "3e", 4: "4e"}


def recent_quarters(count: int = 8, today: datetime.date | None = None) -> list[tuple[str, str]]:
    """("2026T1", "1er trimestre 2026 (janvier à mars)") for the last `count` complete quarters, latest first."""
    months = ("janvier à mars", "avril à juin", "juillet à septembre", "octobre à décembre")
    year, quarter = last_complete_quarter(today)
    choices = []
    for _ in range(count):
        choices.append((f"{year}T{quarter}", f"{QUARTER_ORDINALS[quarter]} trimestre {year} ({months[quarter - 1]})"))
        year, quarter = (year, quarter - 1) if quarter > 1 else (year - 1, 4)
    return choices


# --- the querysets every figure starts from (shared by the dashboard and the census) ---------------


def _submitted_referrals(scope: Scope, period: Period) -> QuerySet[Referral]:
    """Drafts have no `submitted_at`: they are never counted."""
    return Referral.objects.filter(scope.referrals(), period.q("submitted_at"))


def _sent_evaluations(scope: Scope, period: Period) -> QuerySet[Evaluation]:
    return Evaluation.objects.filter(scope.referrals("referral__"), period.q("sent_at"), status=EvaluationStatus.SENT)


def _signed_decisions(scope: Scope, period: Period) -> QuerySet[Decision]:
    return Decision.objects.filter(scope.referrals("referral__"), period.q("signed_at"))


def _handovers(scope: Scope, period: Period) -> QuerySet[Attribution]:
    """The first period of each measure (a renewal keeps the phone: it is not a handover)."""
    return Attribution.objects.filter(
        scope.referrals("referral__"),
        decision__outcome=Outcome.GRANTED,
        handover_date__range=(period.start, period.end),
    )


def _withdrawals(scope: Scope, period: Period) -> QuerySet[Attribution]:
    return Attribution.objects.filter(
        scope.referrals("referral__"), period.q("ended_at"), status=AttributionStatus.WITHDRAWN
    )


def _alerts(scope: Scope, period: Period) -> QuerySet[Alert]:
    return Alert.objects.filter(scope.referrals("attribution__referral__"), period.q("occurred_at"))


def _alert_counts() -> dict:
    """Aggregates of an alert queryset: each kind, interventions and arrests (one query)."""
    return {
        **{kind.value: Count("pk", filter=Q(kind=kind)) for kind in AlertKind},
        "police_intervention": Count("pk", filter=Q(police_intervention=True)),
        "arrest": Count("pk", filter=Q(arrest=True)),
    }


def _active_at(scope: Scope, moment: datetime.datetime) -> QuerySet[Attribution]:
    """Periods running at `moment`: a renewal ends one period when it creates the next, so a phone counts once."""
    return Attribution.objects.filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=moment),
        scope.referrals("referral__"),
        created_at__lte=moment,
        handover_date__lte=timezone.localdate(moment),
    )


def _in_stock_at(scope: Scope, moment: datetime.datetime) -> QuerySet[Device]:
    """Phones whose last move recorded before `moment` put them in stock (held by their current CIDFF).

    "Last" is the highest id: moves are recorded in order, whatever the clock said.
    """
    last_status = DeviceEvent.objects.filter(device=OuterRef("pk"), created_at__lte=moment).order_by("-id")
    return (
        Device.objects.filter(scope.devices())
        .annotate(status_at=Subquery(last_status.values("to_status")[:1]))
        .filter(status_at=DeviceStatus.IN_STOCK)
    )


def _counts(queryset: QuerySet, *fields: str) -> dict:
    """{value of `fields` (a tuple if several): count}, in one GROUP BY."""
    rows = queryset.order_by().values(*fields).annotate(n=Count("pk"))
    if len(fields) == 1:
        return {row[fields[0]]: row["n"] for row in rows}
    return {tuple(row[name] for name in fields): row["n"] for row in rows}


# --- the dashboard ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    code: str
    label: str
    count: int


@dataclass(frozen=True)
class LevelRow:
    code: str
    label: str
    computed: int  # level the instrument computed
    final: int  # level retained after the evaluator's judgement (may only be higher)


@dataclass(frozen=True)
class StockRow:
    organisation: str
    counts: list[int]  # in the order of Summary.device_statuses
    total: int


@dataclass(frozen=True)
class Delay:
    code: str
    label: str
    unit: str  # "heures" or "jours"
    median: float | None  # None when nothing was measured
    count: int  # dossiers measured


@dataclass
class Summary:
    scope: str
    period_start: datetime.date
    period_end: datetime.date
    referrals_total: int
    referrals_by_month: list[Row]
    referrals_by_function: list[Row]
    evaluations_total: int
    evaluations_by_kind: list[Row]
    evaluation_levels: list[LevelRow]
    evaluations_raised: int
    decisions_total: int
    decisions_by_outcome: list[Row]
    renewals: int
    handovers: int
    active_phones: int
    devices_total: int
    device_statuses: list[Row]
    stock_by_organisation: list[StockRow]
    alerts_total: int
    alerts_by_kind: list[Row]
    police_interventions: int
    arrests: int
    withdrawals_total: int
    withdrawals_by_reason: list[Row]
    delays: list[Delay]
    overdue_deadlines_total: int
    overdue_deadlines: list[Row]


def _rows(counts: dict, choices, *, keep_zero: bool = True) -> list[Row]:
    """Labelled rows in the order of `choices`; without `keep_zero`, only the non-zero ones, largest first."""
    rows = [Row(code=code, label=str(label), count=counts.get(code, 0)) for code, label in choices]
    rows += [Row(code=code, label=code, count=n) for code, n in counts.items() if code not in dict(choices)]
    if keep_zero:
        return rows
    return sorted((row for row in rows if row.count), key=lambda row: -row.count)


def level_choices() -> list[tuple[str, str]]:
    """Danger levels, highest first, labelled by the instruments (the active version first)."""
    labels = {}
    for definition in Instrument.objects.order_by("-is_active", "code", "-version").values_list(
        "definition", flat=True
    ):
        for level in definition["levels"]:
            labels.setdefault(level["code"], level["label"])
    return list(labels.items())


def _month_rows(queryset: QuerySet[Referral], period: Period) -> list[Row]:
    by_month = _counts(
        queryset.annotate(month=TruncMonth("submitted_at", tzinfo=timezone.get_default_timezone())), "month"
    )
    by_month = {_as_date(month): n for month, n in by_month.items()}
    return [
        Row(code=f"{month:%Y-%m}", label=formats.date_format(month, "N Y"), count=by_month.get(month, 0))
        for month in period.months()
    ]


def _as_date(value) -> datetime.date:
    """TruncMonth gives an aware datetime on PostgreSQL, a naive one on SQLite."""
    return value.date() if isinstance(value, datetime.datetime) else value


def _median(queryset: QuerySet, delay) -> tuple[datetime.timedelta | None, int]:
    """Median of `delay` over `queryset`, portably: one query reads the delays (a year's are some ten thousand
    numbers), Python takes the middle; a count then an OFFSET would group the dossiers twice."""
    rows = queryset.annotate(delay=ExpressionWrapper(delay, output_field=DurationField())).filter(delay__isnull=False)
    delays = sorted(rows.values_list("delay", flat=True))
    n = len(delays)
    if not n:
        return None, 0
    middle = delays[(n - 1) // 2 : n // 2 + 1]
    return sum(middle, datetime.timedelta()) / len(middle), n


def _delays(scope: Scope, period: Period) -> list[Delay]:
    """Each delay is measured on the dossiers whose *later* step falls in the period.

    First report and first decision are grouped per dossier (MIN … GROUP BY), not looked up dossier by dossier,
    and only for the dossiers with a report (a decision) in the period: a first one can only be in the period if
    one is, and grouping every dossier of the base cost seconds.
    """
    referrals = Referral.objects.filter(scope.referrals())
    first_report = Min("evaluations__sent_at", filter=Q(evaluations__status=EvaluationStatus.SENT))
    with_report = Evaluation.objects.filter(period.q("sent_at"), status=EvaluationStatus.SENT).values("referral_id")
    with_decision = Decision.objects.filter(period.q("signed_at")).values("referral_id")
    first_reports = (
        referrals.filter(pk__in=with_report).annotate(first_report=first_report).filter(period.q("first_report"))
    )
    first_decisions = (
        referrals.filter(pk__in=with_decision)
        .annotate(first_report=first_report, first_decision=Min("decisions__signed_at"))
        .filter(period.q("first_decision"))
    )
    measures = [
        (
            "acknowledgement",
            "Transmission → accusé de réception",
            "heures",
            Referral.objects.filter(scope.referrals(), period.q("acknowledged_at")),
            F("acknowledged_at") - F("submitted_at"),
        ),
        (
            "evaluation",
            "Accusé de réception → premier rapport transmis",
            "jours",
            first_reports,
            F("first_report") - F("acknowledged_at"),
        ),
        (
            "decision",
            "Premier rapport → première décision du parquet",
            "jours",
            first_decisions,
            F("first_decision") - F("first_report"),
        ),
        (
            "handover",
            "Décision d'attribution → remise du téléphone",
            "jours",
            _handovers(scope, period),
            F("handover_date") - TruncDate("decision__signed_at", tzinfo=timezone.get_default_timezone()),
        ),
    ]
    delays = []
    for code, label, unit, queryset, expression in measures:
        median, n = _median(queryset, expression)
        seconds = 3600 if unit == "heures" else 86400
        value = None if median is None else round(median.total_seconds() / seconds, 1)
        delays.append(Delay(code=code, label=label, unit=unit, median=value, count=n))
    return delays


SUMMARY_SECONDS = 300


def stats_summary_recent(*, scope: Scope, period: Period) -> tuple[Summary, datetime.datetime]:
    """The dashboard's figures as computed at most five minutes ago, and when they were.

    At a département's scale they take seconds to compute; a steering committee reads them, it does not
    watch them change. They are counts only: the cache holds no personal data.
    """
    key = ":".join(
        str(part)
        for part in (
            "vigie-stats",
            getattr(scope.jurisdiction, "pk", ""),
            getattr(scope.cidff, "pk", ""),
            period.start,
            period.end,
        )
    )
    return cache.get_or_set(key, lambda: (stats_summary(scope=scope, period=period), timezone.now()), SUMMARY_SECONDS)


def stats_summary(*, scope: Scope, period: Period) -> Summary:
    """Every figure of the dashboard: about twenty queries, whatever the number of dossiers."""
    referrals = _submitted_referrals(scope, period)
    levels = level_choices()
    evaluations = _counts(_sent_evaluations(scope, period), "kind", "computed_level", "final_level")
    by_kind, computed, final = {}, {}, {}
    for (kind, computed_level, final_level), n in evaluations.items():
        by_kind[kind] = by_kind.get(kind, 0) + n
        computed[computed_level] = computed.get(computed_level, 0) + n
        final[final_level] = final.get(final_level, 0) + n
    level_codes = dict(levels) | {code: code for code in {*computed, *final} - dict(levels).keys()}
    outcomes = _counts(_signed_decisions(scope, period), "outcome")
    stock = _counts(Device.objects.filter(scope.devices()), "organisation__name", "status")
    statuses = _rows(_counts(Device.objects.filter(scope.devices()), "status"), DeviceStatus.choices)
    alerts = _alerts(scope, period).aggregate(**_alert_counts())
    withdrawals = _counts(_withdrawals(scope, period), "end_reason")
    overdue = _counts(Deadline.objects.filter(scope.referrals("referral__"), state=DeadlineState.OVERDUE), "kind")
    return Summary(
        scope=scope.label,
        period_start=period.start,
        period_end=period.end,
        referrals_total=referrals.count(),
        referrals_by_month=_month_rows(referrals, period),
        referrals_by_function=_rows(_counts(referrals, "referrer_function"), ReferrerFunction.choices, keep_zero=False),
        evaluations_total=sum(evaluations.values()),
        evaluations_by_kind=_rows(by_kind, EvaluationKind.choices),
        evaluation_levels=[
            LevelRow(code=code, label=label, computed=computed.get(code, 0), final=final.get(code, 0))
            for code, label in level_codes.items()
        ],
        evaluations_raised=sum(n for (_, c, f), n in evaluations.items() if c != f),
        decisions_total=sum(outcomes.values()),
        decisions_by_outcome=_rows(outcomes, Outcome.choices),
        renewals=outcomes.get(Outcome.RENEWED, 0),
        handovers=_handovers(scope, period).count(),
        active_phones=Attribution.objects.filter(
            scope.referrals("referral__"), status=AttributionStatus.ACTIVE
        ).count(),
        devices_total=sum(row.count for row in statuses),
        device_statuses=statuses,
        stock_by_organisation=[
            StockRow(
                organisation=name,
                counts=[stock.get((name, row.code), 0) for row in statuses],
                total=sum(stock.get((name, row.code), 0) for row in statuses),
            )
            for name in sorted({name for name, _ in stock})
        ],
        alerts_total=sum(alerts[kind] for kind in AlertKind.values),
        alerts_by_kind=_rows({kind: alerts[kind] for kind in AlertKind.values}, AlertKind.choices),
        police_interventions=alerts["police_intervention"],
        arrests=alerts["arrest"],
        withdrawals_total=sum(withdrawals.values()),
        withdrawals_by_reason=_rows(withdrawals, ClosureReason.choices, keep_zero=False),
        delays=_delays(scope, period),
        overdue_deadlines_total=sum(overdue.values()),
        overdue_deadlines=_rows(overdue, DeadlineKind.choices, keep_zero=False),
    )


# --- the quarterly census -----------------------------------------------------------------------------


@dataclass
class Census:
    """Counts only, one column per jurisdiction in scope: nothing in it names or locates a person."""

    quarter: str  # "2026T3"
    period: Period
    scope: str
    columns: list[str]
    rows: list[tuple[str, list[int]]]


def _jurisdictions(scope: Scope) -> list[Jurisdiction]:
    if scope.jurisdiction is not None:
        return [scope.jurisdiction]
    return list(Jurisdiction.objects.order_by("name"))


def stats_census(*, scope: Scope, year: int, quarter: int) -> Census:
    """The quarterly census per parquet; "at the end of the quarter" means now for the current quarter."""
    period = quarter_period(year, quarter)
    moment = min(period.until, timezone.now())
    jurisdictions = _jurisdictions(scope)
    via = "cidff__jurisdiction_id"
    levels = _counts(_sent_evaluations(scope, period), f"referral__{via}", "final_level")
    outcomes = _counts(_signed_decisions(scope, period), f"referral__{via}", "outcome")
    withdrawals = _counts(_withdrawals(scope, period), f"referral__{via}", "end_reason")
    alerts = {
        row.pop(f"attribution__referral__{via}"): row
        for row in _alerts(scope, period).order_by().values(f"attribution__referral__{via}").annotate(**_alert_counts())
    }
    in_stock = _counts(_in_stock_at(scope, moment), "organisation__jurisdiction_id")
    indicators = [
        ("Signalements reçus", _counts(_submitted_referrals(scope, period), via)),
        ("Évaluations transmises au parquet", _sum_by_first(levels)),
        *((f"Évaluations transmises : niveau « {label} »", _select(levels, code)) for code, label in level_choices()),
        *((f"Décisions : {label}", _select(outcomes, code)) for code, label in Outcome.choices),
        ("Remises de téléphone", _counts(_handovers(scope, period), f"referral__{via}")),
        ("Renouvellements", _select(outcomes, Outcome.RENEWED)),
        *((f"Retraits : {ClosureReason(code).label}", _select(withdrawals, code)) for code in WITHDRAWAL_REASONS),
        ("Alertes réelles", {key: row[AlertKind.REAL] for key, row in alerts.items()}),
        ("Interventions des forces de l'ordre", {key: row["police_intervention"] for key, row in alerts.items()}),
        ("Interpellations", {key: row["arrest"] for key, row in alerts.items()}),
        ("Téléphones actifs en fin de trimestre", _counts(_active_at(scope, moment), f"referral__{via}")),
        ("Téléphones en stock en fin de trimestre", in_stock),
    ]
    return Census(
        quarter=f"{year}T{quarter}",
        period=period,
        scope=scope.label,
        columns=[
            jurisdiction.name if scope.cidff is None else f"{jurisdiction.name} — {scope.cidff.name}"
            for jurisdiction in jurisdictions
        ],
        rows=[(label, [counts.get(j.pk, 0) for j in jurisdictions]) for label, counts in indicators],
    )


def _select(counts: dict, code: str) -> dict:
    """{jurisdiction: count} of one category out of {(jurisdiction, category): count}."""
    return {key: n for (key, category), n in counts.items() if category == code}


def _sum_by_first(counts: dict) -> dict:
    totals = {}
    for (key, _), n in counts.items():
        totals[key] = totals.get(key, 0) + n
    return totals
