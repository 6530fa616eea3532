from django.core.management.base import BaseCommand
from django.test.utils import override_settings

from deadlines.services import deadlines_scan
from demo.world import (
    DEMO_PASSWORD,
    USERS,
    seed_devices,
    seed_dossiers,
    seed_duplicate_example,
    seed_purge_example,
    seed_reference,
)


class Command(BaseCommand):
    help = "Crée (une seule fois) les juridictions, organisations, comptes et dossiers de démonstration."

    def handle(self, *args, **options):
        world = seed_reference()
        seed_devices(world)
        # The notifications of the seeded transitions would bury the logins under 60 e-mails.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            created = seed_dossiers(world)
            created += seed_purge_example(world)  # closed long ago: what `manage.py purge` anonymises
            created += seed_duplicate_example(world)  # the same woman filed twice: "Doublons possibles"
            raised = deadlines_scan()  # what the beat would raise now on these dossiers
        self.stdout.write(
            self.style.SUCCESS(
                f"Données de démonstration prêtes ({created} dossiers créés, {raised} échéance(s) signalée(s))."
            )
        )
        self.stdout.write(f"\nComptes de démonstration (mot de passe : {DEMO_PASSWORD}) :")
        for email, role, *_ in USERS.values():
            self.stdout.write(f"  {email:<36} {role.label}")
        self.stdout.write(
            "\nDouble authentification : ces comptes sont déjà enrôlés. Après le mot de passe, saisissez le code "
            "que donne\n  python manage.py demo_otp ADRESSE\n(un code vaut 30 secondes et ne sert qu'une fois)."
        )
