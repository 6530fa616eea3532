from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.second_factor import demo_code, second_factor_enrolled
from demo.world import USERS


class Command(BaseCommand):
    help = "Affiche le code de double authentification courant d'un compte de démonstration (mode démo seulement)."

    def add_arguments(self, parser):
        parser.add_argument("email", help="Adresse e-mail du compte de démonstration.")

    def handle(self, *args, email, **options):
        if not settings.VIGIE_DEMO:
            raise CommandError("demo_otp n'existe qu'en mode démonstration (VIGIE_DEMO) : il est refusé ici.")
        email = email.strip().lower()
        if email not in {address for address, *_ in USERS.values()}:
            raise CommandError(f"{email!r} n'est pas un compte de démonstration.")
        user = User.objects.filter(email=email).first()
        if user is None or not second_factor_enrolled(user=user):
            raise CommandError(f"Le compte {email!r} n'est pas enrôlé : lancez d'abord `manage.py seed_demo`.")
        self.stdout.write(demo_code(user=user))
