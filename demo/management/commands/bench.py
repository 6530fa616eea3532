"""`make bench` / `make bench-smoke`: fill (or reuse) the bench database, measure every line, write the report.

The report goes to var/bench.md and var/bench.json. The full bench exits with status 1 when a target is
missed; the smoke variant (a few thousand dossiers, a short load) proves the bench still runs end to end and
fails only if it cannot run.
"""

import json
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts.models import Role, User
from demo.bench import lines as bench_lines
from demo.bench.lines import Line
from demo.bench.load import load_run, postgres_url
from demo.bench.report import VERDICT, report_write
from demo.bench.world import DOMAIN, bench_world
from referrals.models import Referral

LOAD_USERS = {
    Role.CIDFF_COORDINATOR: 8,
    Role.EVALUATOR: 16,
    Role.PROSECUTOR: 8,
    Role.REFERRER: 40,
    Role.OPERATOR: 2,
    Role.SUPERVISOR: 2,
}
MAX_P95_MS, MAX_P99_MS = 200, 500
MEASURES = {  # line number: measure(cast, clients, repeat)
    1: lambda cast, clients, repeat: bench_lines.list_lines(cast, clients, repeat=repeat),
    2: lambda cast, clients, repeat: bench_lines.filter_lines(cast, clients, repeat=repeat),
    3: lambda cast, clients, repeat: bench_lines.growth_lines(cast, clients, repeat=repeat),
    4: lambda cast, clients, repeat: bench_lines.detail_lines(cast, clients),
    5: lambda cast, clients, repeat: bench_lines.pdf_lines(repeat=repeat),
    6: lambda cast, clients, repeat: bench_lines.stats_lines(cast, clients, repeat=repeat),
    7: lambda cast, clients, repeat: bench_lines.batch_lines(),
}
LOAD_LINE = 8


class Command(BaseCommand):
    help = "Banc d'essai : remplit (ou réutilise) la base du banc, mesure chaque ligne, écrit var/bench.md."

    def add_arguments(self, parser):
        parser.add_argument("--dossiers", type=int, default=100_000)
        parser.add_argument("--smoke", action="store_true", help="Variante courte : vérifie que le banc tourne.")
        parser.add_argument("--repeat", type=int, default=7, help="Mesures par ligne (la médiane est retenue).")
        parser.add_argument("--clients", type=int, default=50, help="Clients simultanés de la charge (locust).")
        parser.add_argument("--seconds", type=int, default=60, help="Durée de la charge.")
        parser.add_argument(
            "--growth-probe",
            action="store_true",
            help="Pour la ligne 3 : remplit (ou réutilise) ici un monde d'une seule juridiction et mesure les "
            "listes de la coordination.",
        )
        parser.add_argument(
            "--lines",
            type=lambda value: {int(number) for number in value.split(",")},
            default=set(MEASURES) | {LOAD_LINE},
            help="Lignes à mesurer, par exemple 1,2,4 (toutes par défaut).",
        )

    def handle(self, *args, dossiers, smoke, repeat, clients, seconds, lines: set[int], growth_probe, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Le banc d'essai tourne sur PostgreSQL (DATABASE_URL=postgres://…/vigie_bench).")
        if growth_probe:
            self._growth_probe(dossiers, repeat)
            return
        world = bench_world(dossiers=dossiers, stdout=self.stdout)
        cast = world.users
        found = [
            Line(
                0,
                f"Monde : {Referral.objects.count()} dossiers, {User.objects.count()} comptes",
                f"{world.rows / world.seconds:.0f} lignes/s" if world.seconds else "réutilisé",
                "—",
                None,
                f"{world.rows} lignes en {world.seconds:.0f} s" if world.seconds else "",
            )
        ]
        clients_of = bench_lines.Clients()
        try:
            for number, measure in MEASURES.items():
                if number not in lines:
                    continue
                started = time.perf_counter()
                measured = measure(cast, clients_of, repeat)
                found += measured
                for line in measured:
                    self.stdout.write(f"  {line.number}. {line.name} : {line.figure} ({VERDICT[line.passed]})")
                self.stdout.write(f"     ({time.perf_counter() - started:.1f} s)")
        finally:
            clients_of.close()
        if LOAD_LINE in lines:
            found += self._load(clients, seconds)
        heading = f"Banc d'essai Vigie — {Referral.objects.count()} dossiers{' (fumée)' if smoke else ''}"
        markdown = report_write(
            found,
            heading=heading,
            folder=settings.VAR_DIR,
            context={"smoke": smoke, "dossiers": Referral.objects.count(), "repeat": repeat},
        )
        self.stdout.write("\n" + markdown)
        missed = [line for line in found if line.passed is False]
        if missed and not smoke:
            self.stdout.write(self.style.ERROR(f"{len(missed)} objectif(s) manqué(s)."))
            raise SystemExit(1)
        self.stdout.write(f"Rapport écrit dans {settings.VAR_DIR / 'bench.md'} et bench.json.")

    def _growth_probe(self, dossiers: int, repeat: int) -> None:
        """The smaller world of line 3 (filled once in this database), its coordination's list times on one line."""
        world = bench_world(dossiers=dossiers, focused=True)
        clients_of = bench_lines.Clients()
        try:
            figures = bench_lines.coordinator_list_times(world.users, clients_of, repeat=repeat)
        finally:
            clients_of.close()
        self.stdout.write(bench_lines.GROWTH_MARK + json.dumps(figures))

    def _load(self, clients: int, seconds: int) -> list[Line]:
        """Line 8: gunicorn (gthread, 2 workers) under locust's clients, beside the stack's ceiling."""
        accounts = User.objects.filter(is_active=True, email__endswith="@" + DOMAIN).order_by("id")
        users = {
            role: list(accounts.filter(role=role).values_list("pk", flat=True)[:n]) for role, n in LOAD_USERS.items()
        }
        users[Role.REFERRER] = list(
            Referral.objects.filter(referrer__email__endswith="@" + DOMAIN)
            .order_by("referrer_id")
            .values_list("referrer_id", flat=True)
            .distinct()[: LOAD_USERS[Role.REFERRER]]
        )
        figures = load_run(database_url=postgres_url(), users=users, clients=clients, seconds=seconds)
        detail = (
            f"{figures['requests']} requêtes, {figures['rps']:.1f} req/s "
            f"(plafond de la pile : {figures['trivial_rps']:.0f} req/s sur une page sans base) ; "
            f"{clients} clients, {seconds} s"
        )
        return [
            Line(
                8,
                "Serveur chargé — p95",
                f"{figures['p95_ms']:.0f} ms",
                f"< {MAX_P95_MS} ms",
                figures["p95_ms"] < MAX_P95_MS,
                detail,
            ),
            Line(
                8,
                "Serveur chargé — p99",
                f"{figures['p99_ms']:.0f} ms",
                f"< {MAX_P99_MS} ms",
                figures["p99_ms"] < MAX_P99_MS,
            ),
            Line(
                8,
                "Serveur chargé — erreurs",
                str(figures["failures"]),
                "0",
                figures["failures"] == 0,
                "; ".join(figures.get("errors", {})),
            ),
            *(
                Line(
                    8,
                    f"Serveur chargé — {name}",
                    f"p95 {endpoint['p95_ms']:.0f} ms",
                    "—",
                    None,
                    f"{endpoint['requests']} requêtes, médiane {endpoint['p50_ms']:.0f} ms, "
                    f"p99 {endpoint['p99_ms']:.0f} ms, la plus lente {endpoint['max_ms']:.0f} ms",
                )
                for name, endpoint in sorted(figures["by_name"].items())
            ),
        ]
