"""`make bench`: fill a dedicated database with ~100,000 dossiers, then time the figures.

The dossiers are inserted in bulk (no service, no journal, no permission), spread over three years
and about twenty jurisdictions, with evaluations, decisions, attribution periods (renewals, withdrawals),
alerts, phones and overdue deadlines in plausible proportions. Encrypted fields hold harmless fake
values. A database that already holds dossiers is reused as is, so that a second run only times.
Exits with status 1 when the supervisor's summary is slower than `--target` seconds (median of 3).
"""

import datetime
import random
import statistics
import time
from itertools import islice

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import Jurisdiction, OrganisationKind
from accounts.services import organisation_create
from cidff.models import Evaluation, EvaluationKind, EvaluationStatus, Instrument
from deadlines.models import Deadline, DeadlineState
from demo.world import seed_reference
from parquet.models import (
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
from parquet.services import measure_end_date
from referrals.models import Referral, ReferrerFunction
from referrals.workflow import ClosureReason, DeadlineKind, Status
from stats import selectors

BATCH = 5000
EXTRA_JURISDICTIONS = 20
LEVELS = ["severe"] * 5 + ["high"] * 3 + ["watch"] * 2
OUTCOMES = [Outcome.GRANTED] * 60 + [Outcome.REFUSED] * 25 + [Outcome.INFO_REQUESTED] * 8 + [Outcome.RESERVED] * 7
WITHDRAWALS = [
    ClosureReason.WITHDRAWN_BY_VICTIM,
    ClosureReason.AUTHOR_INCARCERATED,
    ClosureReason.NON_COMPLIANCE,
    ClosureReason.MOVED,
]
FAKE = {"last_name": "Essai", "first_name": "Banc", "phone": "00 00 00 00 00"}


def batched(iterable, size):
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Command(BaseCommand):
    help = (
        "Remplit une base dédiée de ~100 000 dossiers fictifs, puis chronomètre le tableau de bord et le recensement."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dossiers", type=int, default=100_000)
        parser.add_argument("--target", type=float, default=2.0, help="Objectif (secondes) du résumé superviseur.")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, dossiers, target, seed, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Le banc d'essai tourne sur PostgreSQL (DATABASE_URL=postgres://…/vigie_bench).")
        world = seed_reference(password=None)
        if Referral.objects.exists():
            self.stdout.write(f"Base déjà remplie ({Referral.objects.count()} dossiers) : chronométrage seul.")
        else:
            started = time.perf_counter()
            self._fill(world, dossiers, random.Random(seed))
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
            self.stdout.write(f"Données générées en {time.perf_counter() - started:.0f} s.")
        medians = self._time(world)
        supervisor = medians["Résumé — comité de pilotage"]
        verdict = "atteint" if supervisor <= target else "MANQUÉ"
        self.stdout.write(f"Objectif du résumé superviseur : {target:.2f} s — {verdict} ({supervisor:.3f} s).")
        if supervisor > target:
            raise SystemExit(1)

    # --- timing -----------------------------------------------------------------------------------

    def _time(self, world) -> dict[str, float]:
        users = world.users
        year, quarter = selectors.last_complete_quarter()
        period = selectors.default_period()
        cases = {
            "Résumé — comité de pilotage": lambda: selectors.stats_summary(
                scope=selectors.stats_scope(user=users["supervisor"]), period=period
            ),
            "Résumé — coordination CIDFF 92 Sud": lambda: selectors.stats_summary(
                scope=selectors.stats_scope(user=users["coord_sud"]), period=period
            ),
            "Résumé — parquet de Nanterre": lambda: selectors.stats_summary(
                scope=selectors.stats_scope(user=users["prosecutor_nanterre"]), period=period
            ),
            f"Recensement {year}T{quarter} — toutes juridictions": lambda: selectors.stats_census(
                scope=selectors.stats_scope(user=users["supervisor"]), year=year, quarter=quarter
            ),
        }
        medians = {}
        for label, case in cases.items():
            timings = []
            for _ in range(3):
                with CaptureQueriesContext(connection) as queries:
                    started = time.perf_counter()
                    case()
                    timings.append(time.perf_counter() - started)
            medians[label] = statistics.median(timings)
            self.stdout.write(
                f"{label:<48} médiane {medians[label]:6.3f} s (min {min(timings):.3f}, max {max(timings):.3f})"
                f" — {len(queries)} requêtes"
            )
        return medians

    # --- data -------------------------------------------------------------------------------------

    def _fill(self, world, count: int, rng: random.Random) -> None:
        users = world.users
        cidffs = [world.organisations[key] for key in ("cidff92sud", "cidff92nord", "cidffparis")]
        for n in range(EXTRA_JURISDICTIONS):
            jurisdiction, _ = Jurisdiction.objects.get_or_create(name=f"TJ d'essai {n + 1:02d}")
            cidffs.append(
                organisation_create(
                    name=f"CIDFF d'essai {n + 1:02d}",
                    kind=OrganisationKind.CIDFF,
                    jurisdiction=jurisdiction,
                    department=f"{n + 1:02d}",
                )
            )
        instrument = Instrument.objects.get(is_active=True, code="grille-vigie")
        now = timezone.now()
        today = timezone.localdate()
        plans = [self._plan(rng, n, now, today, cidffs) for n in range(count)]
        devices = self._devices(rng, plans, cidffs, now)
        for chunk in batched(plans, BATCH):
            with transaction.atomic():
                self._insert(chunk, users, instrument, devices, rng, today)
            self.stdout.write(f"  {chunk[-1]['n'] + 1} dossiers…")

    def _plan(self, rng, n, now, today, cidffs) -> dict:
        """One dossier's story as dates: submitted, acknowledged, report, decision, periods."""
        submitted = now - datetime.timedelta(days=rng.uniform(0, 3 * 365))
        plan = {"n": n, "cidff": rng.choice(cidffs), "submitted": submitted, "periods": []}
        if rng.random() < 0.03:
            plan["submitted"] = None  # a draft
            return plan
        plan["acknowledged"] = submitted + datetime.timedelta(hours=rng.uniform(1, 72))
        if rng.random() < 0.35 or plan["acknowledged"] > now:
            return plan
        plan["sent"] = plan["acknowledged"] + datetime.timedelta(days=rng.uniform(2, 15))
        plan["decided"] = plan["sent"] + datetime.timedelta(days=rng.uniform(0, 5))
        plan["outcome"] = rng.choice(OUTCOMES)
        if plan["decided"] > now or plan["outcome"] != Outcome.GRANTED or rng.random() < 0.05:
            return plan
        handover = (plan["decided"] + datetime.timedelta(days=rng.uniform(0, 10))).date()
        start = handover
        while start <= today:
            end = measure_end_date(start, 6)
            renewed = end <= today and rng.random() < 0.25 and len(plan["periods"]) < 3
            plan["periods"].append({"start": start, "end": end, "handover": handover, "renewed": renewed})
            if not renewed:
                break
            start = end
        return plan

    def _devices(self, rng, plans, cidffs, now) -> dict:
        """One phone per running measure (a database constraint), plus a stock of spare phones per CIDFF."""
        running = [p for p in plans if p["periods"] and p["periods"][-1]["end"] > timezone.localdate(now)]
        spare = {cidff.pk: 20 + rng.randint(0, 150) for cidff in cidffs}
        rows = [Device(organisation=p["cidff"], status=DeviceStatus.ASSIGNED) for p in running]
        rows += [Device(organisation_id=pk, status=DeviceStatus.IN_STOCK) for pk, n in spare.items() for _ in range(n)]
        for index, device in enumerate(rows):
            device.serial = f"BANC{index:011d}"
            device.phone_number = f"09 {index // 1000000:02d} {index // 10000 % 100:02d} {index % 10000:04d}"
            device.created_at = now - datetime.timedelta(days=4 * 365)
        Device.objects.bulk_create(rows, batch_size=BATCH)
        events = [
            DeviceEvent(device=d, created_at=d.created_at, to_status=DeviceStatus.IN_STOCK, note="Banc d'essai")
            for d in rows
        ]
        events += [
            DeviceEvent(device=d, created_at=now, from_status=DeviceStatus.IN_STOCK, to_status=DeviceStatus.ASSIGNED)
            for d in rows[: len(running)]
        ]
        DeviceEvent.objects.bulk_create(events, batch_size=BATCH)
        by_cidff = {}
        for device in rows[len(running) :]:
            by_cidff.setdefault(device.organisation_id, []).append(device)
        assigned = {p["n"]: device for p, device in zip(running, rows, strict=False)}
        return {"assigned": assigned, "spare": by_cidff}

    def _insert(self, plans, users, instrument, devices, rng, today) -> None:
        referrer, evaluator = users["referrer_ccas"], users["eval1_sud"]
        prosecutor, coordinator, operator = users["prosecutor_nanterre"], users["coord_sud"], users["operator"]
        referrals = Referral.objects.bulk_create(
            [
                Referral(
                    reference=f"BANC-{p['n']:08d}",
                    status=self._status(p, today),
                    referrer=referrer,
                    referrer_organisation=referrer.organisation,
                    referrer_function=rng.choice(ReferrerFunction.values),
                    cidff=p["cidff"],
                    victim=FAKE,
                    author=FAKE,
                    facts="Faits fictifs du banc d'essai.",
                    created_at=p["submitted"] or timezone.now(),
                    submitted_at=p["submitted"],
                    acknowledged_at=p.get("acknowledged"),
                )
                for p in plans
            ],
            batch_size=BATCH,
        )
        stories = [(p, r) for p, r in zip(plans, referrals, strict=True) if "sent" in p]
        evaluations = Evaluation.objects.bulk_create(
            [self._evaluation(r, instrument, evaluator, p["sent"], rng, EvaluationKind.INITIAL) for p, r in stories],
            batch_size=BATCH,
        )
        decided = [(p, r, e) for (p, r), e in zip(stories, evaluations, strict=True) if "outcome" in p]
        decisions = Decision.objects.bulk_create(
            [
                Decision(
                    referral=r,
                    evaluation=e,
                    outcome=p["outcome"],
                    author=prosecutor,
                    signed_by="Parquet (banc d'essai)",
                    signed_at=p["decided"],
                    duration_months=6 if p["outcome"] == Outcome.GRANTED else None,
                )
                for p, r, e in decided
            ],
            batch_size=BATCH,
        )
        periods, renewals = [], []
        for (p, r, _), decision in zip(decided, decisions, strict=True):
            device = devices["assigned"].get(p["n"]) or rng.choice(devices["spare"][p["cidff"].pk])
            for index, period in enumerate(p["periods"]):
                if index:  # a renewal: its own report and decision, ten and twenty days before the term
                    term = self._at(period["start"])
                    renewals.append((r, term - datetime.timedelta(days=20), term - datetime.timedelta(days=10)))
                periods.append((p, r, decision if not index else None, device, period))
        self._insert_renewals(renewals, instrument, evaluator, prosecutor, rng, decisions_for=periods)
        attributions = Attribution.objects.bulk_create(
            [self._attribution(r, d, device, period, coordinator, rng, today) for _, r, d, device, period in periods],
            batch_size=BATCH,
        )
        alerts = []
        for attribution in attributions:
            for _ in range(rng.choice((0, 0, 0, 1, 1, 2))):
                kind = rng.choice(
                    (AlertKind.REAL, AlertKind.REAL, AlertKind.FALSE, AlertKind.FALSE, AlertKind.MISSED_TEST)
                )
                police = kind == AlertKind.REAL and rng.random() < 0.6
                alerts.append(
                    Alert(
                        attribution=attribution,
                        occurred_at=self._at(attribution.start_date) + datetime.timedelta(days=rng.uniform(0, 150)),
                        kind=kind,
                        police_intervention=police,
                        arrest=police and rng.random() < 0.3,
                        notes="Alerte fictive.",
                        reported_by=operator,
                    )
                )
        Alert.objects.bulk_create(alerts, batch_size=BATCH)
        Deadline.objects.bulk_create(
            [
                Deadline(
                    referral=r,
                    kind=rng.choice(DeadlineKind.values),
                    due_at=timezone.now() - datetime.timedelta(days=rng.uniform(1, 30)),
                    state=DeadlineState.OVERDUE,
                )
                for r in referrals
                if rng.random() < 0.01
            ],
            batch_size=BATCH,
        )

    def _insert_renewals(self, renewals, instrument, evaluator, prosecutor, rng, decisions_for) -> None:
        """Renewal reports and decisions, then plugged into the periods they open (in order)."""
        evaluations = Evaluation.objects.bulk_create(
            [self._evaluation(r, instrument, evaluator, sent, rng, EvaluationKind.RENEWAL) for r, sent, _ in renewals],
            batch_size=BATCH,
        )
        decisions = iter(
            Decision.objects.bulk_create(
                [
                    Decision(
                        referral=r,
                        evaluation=e,
                        outcome=Outcome.RENEWED,
                        author=prosecutor,
                        signed_by="Parquet (banc d'essai)",
                        signed_at=signed,
                        duration_months=6,
                    )
                    for (r, _, signed), e in zip(renewals, evaluations, strict=True)
                ],
                batch_size=BATCH,
            )
        )
        for index, (p, r, decision, device, period) in enumerate(decisions_for):
            if decision is None:
                decisions_for[index] = (p, r, next(decisions), device, period)

    def _evaluation(self, referral, instrument, evaluator, sent, rng, kind) -> Evaluation:
        level = rng.choice(LEVELS)
        return Evaluation(
            referral=referral,
            kind=kind,
            status=EvaluationStatus.SENT,
            instrument=instrument,
            evaluator=evaluator,
            answers={"V01": {"answer": "yes", "comment": ""}},
            narrative="Synthèse fictive.",
            computed_level=level,
            final_level="severe" if level == "high" and rng.random() < 0.1 else level,
            created_at=sent - datetime.timedelta(days=2),
            sent_at=sent,
        )

    def _attribution(self, referral, decision, device, period, coordinator, rng, today) -> Attribution:
        attribution = Attribution(
            referral=referral,
            decision=decision,
            device=device,
            handover_date=period["handover"],
            start_date=period["start"],
            end_date=period["end"],
            consent=True,
            geolocation_consent=True,
            recorded_by=coordinator,
            created_at=self._at(period["start"]),
        )
        if period["renewed"]:
            attribution.status, attribution.end_reason = AttributionStatus.ENDED, "renewed"
            attribution.ended_at = self._at(period["end"]) - datetime.timedelta(days=10)
        elif rng.random() < 0.12:
            attribution.status, attribution.end_reason = AttributionStatus.WITHDRAWN, rng.choice(WITHDRAWALS)
            attribution.ended_at = self._at(period["start"]) + datetime.timedelta(days=rng.uniform(10, 150))
        elif period["end"] <= today:
            attribution.status, attribution.end_reason = AttributionStatus.ENDED, ClosureReason.MEASURE_ENDED
            attribution.ended_at = self._at(period["end"])
        if attribution.ended_at and attribution.ended_at > timezone.now():
            attribution.status, attribution.end_reason, attribution.ended_at = AttributionStatus.ACTIVE, "", None
        return attribution

    @staticmethod
    def _at(day: datetime.date) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))

    @staticmethod
    def _status(plan, today) -> str:
        if plan["submitted"] is None:
            return Status.DRAFT
        if plan["periods"]:
            return Status.ACTIVE if plan["periods"][-1]["end"] > today else Status.CLOSED
        if "outcome" in plan:
            return Status.CLOSED if plan["outcome"] == Outcome.REFUSED else Status.REPORT_SENT
        return Status.EVALUATION if "acknowledged" in plan else Status.SUBMITTED
