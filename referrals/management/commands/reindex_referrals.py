"""Recompute every dossier's blind indexes, after VIGIE_INDEX_KEY changed (rotation) or the normalisation did.

Streams the table by id (a chunk in memory at a time), may resume where it stopped (`--from-id`), and can be
run again at will: it writes the same indexes. Anonymised dossiers keep empty indexes.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from referrals.indexes import FIELDS, referral_indexes
from referrals.models import Referral


class Command(BaseCommand):
    help = "Recalcule les index aveugles (identité, téléphone, auteur) de tous les dossiers (rotation de clé)."

    def add_arguments(self, parser):
        parser.add_argument("--from-id", type=int, default=0, help="Reprendre à partir de ce numéro de dossier.")
        parser.add_argument("--chunk", type=int, default=500, help="Dossiers lus et écrits par lot.")
        parser.add_argument("--progress", type=int, default=1000, help="Afficher l'avancement tous les N dossiers.")

    def handle(self, *args, from_id, chunk, progress, **options):
        last_id, done, changed = from_id - 1, 0, 0
        while True:
            with transaction.atomic():
                batch = list(
                    Referral.objects.select_for_update()
                    .filter(pk__gt=last_id, anonymised_at__isnull=True)
                    .only("pk", "victim", "author", *FIELDS)
                    .order_by("pk")[:chunk]
                )
                if not batch:
                    break
                stale = []
                for referral in batch:
                    indexes = referral_indexes(referral)
                    if any(getattr(referral, field) != value for field, value in indexes.items()):
                        for field, value in indexes.items():
                            setattr(referral, field, value)
                        stale.append(referral)
                Referral.objects.bulk_update(stale, FIELDS)
            last_id, changed, before, done = batch[-1].pk, changed + len(stale), done, done + len(batch)
            if done // progress > before // progress:
                self.stdout.write(f"{done} dossiers traités (reprendre avec --from-id {last_id + 1}).")
        self.stdout.write(
            self.style.SUCCESS(f"Index recalculés : {done} dossiers lus, {changed} mis à jour (dernier n° {last_id}).")
        )
