"""The journal's retention: the one way events leave it (VIGIE_AUDIT_RETENTION_DAYS)."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from audit.checkpoints import CheckpointError
from audit.services import JournalAltered, audit_purge


class Command(BaseCommand):
    help = (
        "Supprime du journal des accès les événements plus anciens que VIGIE_AUDIT_RETENTION_DAYS, après avoir "
        "vérifié le journal et enregistré le point de purge hors de la base."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Compte ce qui serait supprimé, sans rien écrire.")

    def handle(self, *args, dry_run=False, **options):
        try:
            purge = audit_purge(dry_run=dry_run)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        except JournalAltered as exc:
            for problem in exc.args[0]:
                self.stderr.write(f"- {problem}")
            raise CommandError("Purge refusée : le journal ne se vérifie pas (voir ci-dessus).") from exc
        except CheckpointError as exc:
            raise CommandError(f"Purge refusée : {exc}") from exc
        before = f"au {timezone.localtime(purge.cutoff):%d/%m/%Y %H:%M} (conservation {purge.days} jours)"
        if dry_run:
            self.stdout.write(
                f"Simulation, rien n'a été supprimé : {purge.removed} événement(s) antérieur(s) {before} à supprimer."
            )
        elif purge.removed:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Purge terminée : {purge.removed} événement(s) antérieur(s) {before} supprimé(s), jusqu'au "
                    f"n° {purge.through_id} ; le journal se vérifie à partir du suivant."
                )
            )
        else:
            self.stdout.write(self.style.SUCCESS(f"Rien à purger : aucun événement antérieur {before}."))
