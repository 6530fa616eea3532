from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from cidff.services import instrument_load


class Command(BaseCommand):
    help = "Charge une version de grille d'évaluation (YAML ou JSON) et l'active, sauf --sans-activer."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--sans-activer", action="store_true", dest="no_activate")

    def handle(self, path, no_activate, **options):
        try:
            instrument = instrument_load(text=path.read_text(encoding="utf-8"), activate=not no_activate)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Fichier illisible : {exc}") from None
        except ValidationError as exc:
            raise CommandError("Grille refusée :\n- " + "\n- ".join(exc.messages)) from None
        state = "active" if instrument.is_active else "inactive"
        self.stdout.write(self.style.SUCCESS(f"{instrument} chargée ({state}, sha256 {instrument.sha256[:12]}…)."))
