"""Write one encrypted backup: the database (a consistent dump), the private files and the journal's checkpoints."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from audit.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Sauvegarde chiffrée (VIGIE_BACKUP_KEY) en un seul fichier : la base PostgreSQL (instantané cohérent), "
        "les fichiers privés et les points de contrôle du journal."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output", type=Path, help="Fichier à écrire (par défaut VIGIE_BACKUP_DIR/vigie-<date UTC>.vbk)."
        )

    def handle(self, *args, output=None, **options):
        try:
            summary = backup_create(output=output)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(summary.line()))
