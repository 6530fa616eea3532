"""Apply the retention schedule once (the beat runs it daily); `--dry-run` lists what would go."""

from django.core.management.base import BaseCommand

from retention.schedule import RULES
from retention.services import retention_purge

LABELS = {rule.kind: rule.label for rule in RULES} | {
    "tokens": "Jetons d'API expirés",
    "sessions": "Sessions ouvertes expirées",
}


class Command(BaseCommand):
    help = "Applique la durée de conservation : anonymise ou supprime ce qui a dépassé sa durée (docs/retention.md)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Liste ce qui serait purgé, sans rien écrire.")

    def handle(self, *args, dry_run=False, **options):
        purge = retention_purge(dry_run=dry_run)
        self.stdout.write("Simulation, rien n'a été modifié :" if dry_run else "Purge terminée :")
        for kind, count in purge.counts.items():
            line = f"- {LABELS[kind]} : {count}"
            references = purge.references.get(kind)
            if references:
                line += f" ({', '.join(references)})"
            self.stdout.write(line)
