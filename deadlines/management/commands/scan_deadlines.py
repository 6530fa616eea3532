"""Run the beat task's scan once; `--now` moves the clock for tests and rehearsals."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from deadlines.services import deadlines_scan


class Command(BaseCommand):
    help = "Signale les échéances arrivées à terme (une passe du planificateur)."

    def add_arguments(self, parser):
        parser.add_argument("--now", help="Instant de référence ISO 8601 (par défaut : maintenant).")

    def handle(self, *args, now=None, **options):
        moment = timezone.now()
        if now:
            moment = parse_datetime(now)
            if moment is None:
                raise CommandError("--now : date et heure ISO 8601 attendues, par exemple 2026-12-01T08:00:00+01:00.")
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
        raised = deadlines_scan(now=moment)
        self.stdout.write(f"{raised} échéance(s) signalée(s).")
