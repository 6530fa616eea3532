"""The lines of the performance report: each one measured as the users' requests run, against its target.

Times that depend on the machine are compared side by side in the same run (a ratio), the absolute
figures printed beside them. Requests go through the whole Django stack (test client, a session verified
by both factors): permission filtering, journaling and decryption are paid as in production.
"""

import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from unittest import mock

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cidff.models import Evaluation, EvaluationStatus
from cidff.reports import render_report_pdf
from core.pdf import html_to_pdf
from deadlines.services import deadlines_scan
from demo.bench.load import bench_process_env, postgres_url, sessions_end, verified_session
from demo.bench.world import settle
from parquet.documents import render_decision_pdf
from parquet.models import Decision, DecisionDocument, DecisionDocumentKind
from referrals.models import CaseEvent, Referral
from referrals.policies import referral_policy
from referrals.selectors import referral_list_visible
from retention.services import retention_purge
from stats import selectors as stats
from stats.exports import census_csv, census_xlsx

LIST_ROLES = ("coordinator", "evaluator", "prosecutor", "referrer")
LIST_PATHS = {"API": "/api/v1/referrals/?page_size=20", "web": "/dossiers/?file=tous"}  # first page, every dossier
DETAIL_ROLES = ("coordinator", "evaluator", "prosecutor", "referrer")
MAX_LIST_QUERIES = 8
MIN_THROUGHPUT_RATIO = 0.8
MAX_PDF_SECONDS = 0.35
MAX_DASHBOARD_SECONDS = 0.3
MAX_BATCH_MEGABYTES = 64  # the scan and the purge stream: their peak stays far below the base's size
HISTORY_LENGTHS = (10, 200)
PLAIN_PAGE = '<html lang="fr"><body><h1>Page</h1><p>Une page de texte simple.</p></body></html>'


@dataclass
class Line:
    """One row of the report; `passed` is None for a figure given without a target."""

    number: int
    name: str
    figure: str
    target: str
    passed: bool | None
    detail: str = ""


@dataclass
class Timing:
    median: float
    queries: int


def _run_once(work: Callable) -> tuple[float, int]:
    """Wall time of one `work()` and the SQL queries it made."""
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        work()
        seconds = time.perf_counter() - started
    return seconds, sum(not sql_is_transaction(q["sql"]) for q in queries)


def timed(work: Callable, *, repeat: int) -> Timing:
    """Median wall time of `work()` after one warm-up run; the SQL queries of the last run."""
    return timed_side_by_side(work, repeat=repeat)[0]


def timed_side_by_side(*works: Callable, repeat: int) -> list[Timing]:
    """`timed()` of several works run in turn, one of each per round: a slower moment of the shared machine weighs
    on both sides of a ratio alike, instead of on whichever was being measured then."""
    for work in works:
        work()
    runs = [[_run_once(work) for work in works] for _ in range(repeat)]
    return [
        Timing(statistics.median(round_[side][0] for round_ in runs), runs[-1][side][1]) for side in range(len(works))
    ]


def sql_is_transaction(sql: str) -> bool:
    """BEGIN, COMMIT, savepoints: bookkeeping of a transaction, not a query to count."""
    return sql.split(" ", 1)[0].upper() in {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


class Clients:
    """Test clients signed in as the cast (both factors), one per user; `close()` ends their sessions."""

    def __init__(self):
        self.opened: dict[int, tuple[str, Client]] = {}

    def __call__(self, user) -> Client:
        if user.pk not in self.opened:
            client = Client()
            key = verified_session(user)
            client.cookies[settings.SESSION_COOKIE_NAME] = key
            self.opened[user.pk] = (key, client)
        return self.opened[user.pk][1]

    def close(self) -> None:
        sessions_end([key for key, _ in self.opened.values()])
        self.opened.clear()


def get_ok(client: Client, path: str) -> Callable:
    def work():
        response = client.get(path)
        if response.status_code != 200:
            raise RuntimeError(f"{path} : réponse {response.status_code}")
        return response

    return work


@contextmanager
def unfiltered():
    """The same lists with the permission filter replaced by TRUE (and their count by a count of every dossier):
    what filtering costs, side by side."""
    policy = type(referral_policy)
    with (
        mock.patch.object(policy, "visible_q", lambda self, user: Q()),
        mock.patch.object(policy, "count_visible", lambda self, user: self.base_queryset().count()),
    ):
        yield


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


# --- 1 and 2: the dossier lists ---------------------------------------------------------------------------


def _unfiltered_get(client: Client, path: str) -> Callable:
    request = get_ok(client, path)

    def work():
        with unfiltered():
            return request()

    return work


def _ratio_line(number, name, path, client, repeat) -> Line:
    filtered, baseline = timed_side_by_side(get_ok(client, path), _unfiltered_get(client, path), repeat=repeat)
    ratio = baseline.median / filtered.median
    return Line(
        number,
        name,
        f"{ratio:.2f}",
        f"≥ {MIN_THROUGHPUT_RATIO}",
        ratio >= MIN_THROUGHPUT_RATIO,
        f"{ms(filtered.median)} filtrée, {ms(baseline.median)} sans filtre ; {filtered.queries} requêtes SQL",
    )


def list_lines(cast, clients: Clients, *, repeat: int) -> list[Line]:
    lines = []
    for role in LIST_ROLES:
        user = cast[role]
        client = clients(user)
        visible = referral_list_visible(user=user).count()
        for kind, path in LIST_PATHS.items():
            line = _ratio_line(1, f"Liste {kind} — {role} ({visible} dossiers visibles)", path, client, repeat)
            lines.append(line)
        counts = {
            size: timed(get_ok(client, f"/api/v1/referrals/?page_size={size}"), repeat=1).queries for size in (20, 100)
        }
        same = counts[20] == counts[100] and counts[20] <= MAX_LIST_QUERIES
        lines.append(
            Line(
                1,
                f"Requêtes SQL, liste API — {role}",
                f"{counts[20]} / {counts[100]}",
                f"≤ {MAX_LIST_QUERIES}, identiques pour 20 et 100 lignes",
                same,
            )
        )
    return lines


def filter_lines(cast, clients: Clients, *, repeat: int) -> list[Line]:
    """Each filter and the search of the web list, against the unfiltered list of the same page."""
    user = cast["coordinator"]
    client = clients(user)
    sample = referral_list_visible(user=user).exclude(evaluator=None).order_by("-id").first()
    queries = {
        "urgence": "urgence=urgent",
        "état": "etat=evaluation",
        "évaluatrice": f"evaluatrice={sample.evaluator_id}",
        "CIDFF": f"cidff={sample.cidff_id}",
        "tri par date de transmission": "sort=-transmis",
        "recherche par référence": f"q={sample.reference[:-2]}",
        "recherche par téléphone": "q=00 00 00 00 00",
    }
    baseline_list = _unfiltered_get(client, "/dossiers/?file=tous")
    lines = []
    for name, query in queries.items():
        path = f"/dossiers/?file=tous&{query}"
        filtered, baseline = timed_side_by_side(get_ok(client, path), baseline_list, repeat=repeat)
        ratio = baseline.median / filtered.median
        lines.append(
            Line(
                2,
                f"Liste web filtrée ({name}) — coordinator",
                f"{ratio:.2f}",
                f"≥ {MIN_THROUGHPUT_RATIO}",
                ratio >= MIN_THROUGHPUT_RATIO,
                f"{ms(filtered.median)} contre {ms(baseline.median)} sans aucun filtre",
            )
        )
    return lines


# --- 3: growth -----------------------------------------------------------------------------------------------

GROWTH_SHARE = 10  # the smaller world holds a tenth of the dossiers, its coordination as many as here
MAX_GROWTH_RATIO = 1.5
GROWTH_MARK = "croissance:"  # the probe's line of figures on its output


def coordinator_list_times(cast, clients: Clients, *, repeat: int) -> dict:
    """The coordination's lists in this database: her visible dossiers, the median time of each list."""
    user = cast["coordinator"]
    client = clients(user)
    times = {kind: timed(get_ok(client, path), repeat=repeat).median for kind, path in LIST_PATHS.items()}
    return {"dossiers": Referral.objects.count(), "visible": referral_list_visible(user=user).count(), **times}


def growth_lines(cast, clients: Clients, *, repeat: int) -> list[Line]:
    """The coordination's lists here against the same lists in a world a tenth as large where her CIDFF holds as
    many dossiers (`bench --growth-probe` in its own database, `<this database>_growth`, filled once)."""
    here = coordinator_list_times(cast, clients, repeat=repeat)
    smaller = _smaller_world_times(max(here["dossiers"] // GROWTH_SHARE, 1), repeat=repeat)
    lines = []
    for kind in LIST_PATHS:
        ratio = here[kind] / smaller[kind]
        lines.append(
            Line(
                3,
                f"Croissance, liste {kind} d'une coordination : {smaller['dossiers']} → {here['dossiers']} dossiers",
                f"{ratio:.2f}",
                f"≤ {MAX_GROWTH_RATIO}",
                ratio <= MAX_GROWTH_RATIO,
                f"{ms(smaller[kind])} ({smaller['visible']} visibles) → {ms(here[kind])} ({here['visible']} visibles)",
            )
        )
    return lines


def _smaller_world_times(dossiers: int, *, repeat: int) -> dict:
    """`coordinator_list_times` in the smaller world, created and filled if need be, measured by its own process."""
    name = f"{connection.settings_dict['NAME']}_growth"
    with connection._nodb_cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(f'CREATE DATABASE "{name}"')
    env = bench_process_env(postgres_url(name))
    env["ALLOWED_HOSTS"] += ",testserver"  # its requests go through Django's test client, as here
    manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
    probe = [*manage, "bench", "--growth-probe", "--dossiers", str(dossiers), "--repeat", str(repeat)]
    done = subprocess.run(probe, env=env, capture_output=True, text=True)
    figures = [line for line in done.stdout.splitlines() if line.startswith(GROWTH_MARK)]
    if done.returncode or not figures:
        raise RuntimeError(f"Ligne 3 : la sonde du petit monde a échoué.\n{done.stderr[-2000:]}")
    return json.loads(figures[-1].removeprefix(GROWTH_MARK))


# --- 4: dossier pages whatever their history -----------------------------------------------------------------


def _history(referral: Referral, length: int) -> None:
    """Bring the dossier's timeline to `length` events."""
    missing = length - referral.events.count()
    now = timezone.now()
    CaseEvent.objects.bulk_create(
        CaseEvent(referral=referral, created_at=now, action="note", to_status=referral.status, comment="Banc.")
        for _ in range(max(missing, 0))
    )


def detail_lines(cast, clients: Clients) -> list[Line]:
    """The same dossier read at 10 events, then at 200 (a dossier not grown by an earlier run)."""
    short, long = HISTORY_LENGTHS
    lines = []
    for role in DETAIL_ROLES:
        user = cast[role]
        client = clients(user)
        referral = (
            referral_list_visible(user=user)
            .annotate(length=Count("events"))
            .filter(length__lte=short)
            .order_by("id")
            .first()
        )
        counts = {}
        for length in HISTORY_LENGTHS:
            _history(referral, length)
            for kind, template in (("page", "/dossiers/{}/"), ("API", "/api/v1/referrals/{}/")):
                counts[kind, length] = timed(get_ok(client, template.format(referral.pk)), repeat=1).queries
        for kind in ("page", "API"):
            few, many = counts[kind, short], counts[kind, long]
            lines.append(
                Line(
                    4,
                    f"Dossier ({kind}) — {role}",
                    f"{few} / {many}",
                    f"requêtes identiques pour {short} et {long} événements",
                    few == many,
                )
            )
    return lines


# --- 5: PDFs ------------------------------------------------------------------------------------------------


def pdf_lines(*, repeat: int) -> list[Line]:
    evaluation = Evaluation.objects.filter(status=EvaluationStatus.SENT).order_by("-id").first()
    decision = Decision.objects.select_related("referral").order_by("-id").first()
    document = DecisionDocument(decision=decision, kind=DecisionDocumentKind.DECISION)
    plain = timed(lambda: html_to_pdf(PLAIN_PAGE), repeat=repeat)
    lines = []
    for name, work in (
        ("Rapport d'évaluation (PDF)", lambda: render_report_pdf(evaluation, version=1)),
        ("Décision du parquet (PDF)", lambda: render_decision_pdf(document)),
    ):
        timing = timed(work, repeat=repeat)
        lines.append(
            Line(
                5,
                name,
                ms(timing.median),
                f"≤ {ms(MAX_PDF_SECONDS)}",
                timing.median <= MAX_PDF_SECONDS,
                f"{timing.median / plain.median:.1f} × une page simple ({ms(plain.median)})",
            )
        )
    return lines


# --- 6: dashboard and census -----------------------------------------------------------------------------------


def stats_lines(cast, clients: Clients, *, repeat: int) -> list[Line]:
    year, quarter = stats.last_complete_quarter()
    client = clients(cast["supervisor"])
    dashboard = timed(get_ok(client, "/tableau-de-bord/"), repeat=repeat)
    scope = stats.stats_scope(user=cast["supervisor"])
    computed = timed(
        lambda: stats.stats_summary(scope=scope, period=stats.default_period()), repeat=max(repeat // 2, 1)
    )
    lines = [
        Line(
            6,
            "Tableau de bord — comité de pilotage",
            ms(dashboard.median),
            f"≤ {ms(MAX_DASHBOARD_SECONDS)}",
            dashboard.median <= MAX_DASHBOARD_SECONDS,
            f"{dashboard.queries} requêtes SQL ; chiffres gardés {stats.SUMMARY_SECONDS // 60} min",
        ),
        Line(
            6,
            "Tableau de bord — calcul des chiffres (hors cache)",
            ms(computed.median),
            "—",
            None,
            f"{computed.queries} requêtes SQL, au plus une fois par {stats.SUMMARY_SECONDS // 60} min et par processus",
        ),
    ]
    for name, export in (("CSV", census_csv), ("XLSX", census_xlsx)):
        timing = timed(
            lambda export=export: export(stats.stats_census(scope=scope, year=year, quarter=quarter)), repeat=repeat
        )
        lines.append(
            Line(6, f"Recensement {year}T{quarter} {name} — toutes juridictions", ms(timing.median), "—", None)
        )
    return lines


# --- 7: the beat's scan and the daily purge ------------------------------------------------------------------------


def _rolled_back(work: Callable) -> tuple[float, int]:
    """Seconds and peak Python memory (bytes) of `work()`, whose writes are rolled back (the base stays as it was)."""
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with transaction.atomic():
            work()
            transaction.set_rollback(True)
    finally:
        seconds = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return seconds, peak


def batch_lines() -> list[Line]:
    per = Referral.objects.count() / 10_000
    lines = []
    for name, work in (("Scan des échéances (beat)", deadlines_scan), ("Purge quotidienne", retention_purge)):
        seconds, peak = _rolled_back(work)
        megabytes = peak / 2**20
        lines.append(
            Line(
                7,
                name,
                f"{seconds / per:.2f} s / 10 000 dossiers",
                f"mémoire ≤ {MAX_BATCH_MEGABYTES} Mo",
                megabytes <= MAX_BATCH_MEGABYTES,
                f"{seconds:.1f} s en tout, pic {megabytes:.1f} Mo",
            )
        )
    settle()  # their rolled-back writes left dead rows: the loaded server must not pay for them
    return lines
