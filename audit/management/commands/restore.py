"""Restore an encrypted backup into a new database, an empty storage folder and the checkpoint folder."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from audit.backup import BackupError, backup_restore, size_label


class Command(BaseCommand):
    help = (
        "Restaure une sauvegarde chiffrée : vérifie tout le fichier (clé, intégrité), crée la base neuve, y "
        "restaure les données, écrit les fichiers privés dans un dossier vide et les points de contrôle du journal."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="Le fichier de sauvegarde (.vbk).")
        parser.add_argument(
            "--database", required=True, help="Nom de la base à créer (elle ne doit pas exister, ou être vide)."
        )
        parser.add_argument(
            "--storage",
            type=Path,
            help="Dossier vide où écrire les fichiers privés (par défaut celui du stockage privé sur disque).",
        )
        parser.add_argument(
            "--checkpoints",
            type=Path,
            help="Dossier des points de contrôle du journal (par défaut VIGIE_AUDIT_CHECKPOINT_DIR).",
        )

    def handle(self, *args, file, database, storage=None, checkpoints=None, **options):
        private = settings.STORAGES["default"]
        if storage is None and private["BACKEND"] == "django.core.files.storage.FileSystemStorage":
            storage = private["OPTIONS"]["location"]
        if storage is None:
            raise CommandError("Le stockage privé n'est pas un dossier local : indiquez --storage DOSSIER.")
        try:
            done = backup_restore(
                path=file,
                database=database,
                storage_dir=Path(storage),
                checkpoint_dir=checkpoints or Path(settings.VIGIE_AUDIT_CHECKPOINT_DIR),
            )
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        inventory = done.inventory
        self.stdout.write(
            self.style.SUCCESS(
                f"Sauvegarde du {inventory.created_at} (base {inventory.source_database}) restaurée : base "
                f"{done.database} ({size_label(inventory.dump_bytes)} de données), {inventory.files} fichier(s) "
                f"privé(s) dans {done.storage_dir}, points de contrôle : {done.checkpoint_file or 'aucun'}."
            )
        )
        self.stdout.write(
            "Étapes suivantes : lancez Vigie sur cette base (DATABASE_URL=postgres://…/"
            f"{done.database}, VIGIE_PRIVATE_STORAGE={done.storage_dir}, mêmes VIGIE_FIELD_KEYS, VIGIE_AUDIT_KEY "
            "et VIGIE_INDEX_KEY qu'à la sauvegarde), puis vérifiez le journal : "
            "python manage.py verify_audit ; enfin python manage.py check --deploy."
        )
