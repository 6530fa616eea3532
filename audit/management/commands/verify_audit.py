"""Verify the journal (seals, links, checkpoints outside the database), then checkpoint its head."""

from django.core.management.base import BaseCommand, CommandError

from audit.checkpoints import CheckpointError
from audit.services import audit_checkpoint, audit_verify

SHOWN = 20  # problems listed one by one


class Command(BaseCommand):
    help = (
        "Vérifie le journal des accès : sceau HMAC et lien de chaque événement, et concordance avec les points "
        "de contrôle gardés hors de la base (troncature, réécriture) ; puis enregistre un point de contrôle."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--restart-checkpoints",
            action="store_true",
            help="Après enquête seulement : ouvre un nouveau fichier de points de contrôle à la place d'un fichier "
            "perdu (la reprise est journalisée).",
        )

    def handle(self, *args, restart_checkpoints=False, **options):
        verdict = audit_verify()
        problems = verdict.problems
        if restart_checkpoints:
            if not verdict.missing_file:
                raise CommandError("--restart-checkpoints : le fichier des points de contrôle n'est pas perdu.")
            problems = [p for p in problems if p != verdict.missing_file]  # the lost file, replaced below
        if problems:
            for problem in problems[:SHOWN]:
                self.stderr.write(f"- {problem}")
            if len(problems) > SHOWN:
                self.stderr.write(f"- … et {len(problems) - SHOWN} autre(s).")
            others = f" (et {len(problems) - 1} autre(s) anomalie(s) ci-dessus)" if len(problems) > 1 else ""
            raise CommandError(f"Journal altéré : {problems[0]}{others}")
        try:
            audit_checkpoint(by="verify_audit", head=verdict.head, restart=restart_checkpoints)
        except CheckpointError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Journal intègre : {verdict.checked} événements vérifiés, {verdict.checkpoints} point(s) de "
                f"contrôle concordant(s) ({verdict.path})."
            )
        )
