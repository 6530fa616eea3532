"""Create a supervisor from the command line (the first one, before anyone can sign in) and print her password link."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.services import supervisor_create


class Command(BaseCommand):
    help = (
        "Crée un compte superviseur (comité de pilotage) sans mot de passe et affiche un lien à usage unique pour "
        "le choisir ; la double authentification s'active à la première connexion."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="Adresse e-mail du compte (son identifiant de connexion).")
        parser.add_argument("--first-name", default="", help="Prénom.")
        parser.add_argument("--last-name", default="", help="Nom.")

    def handle(self, *args, email, first_name, last_name, **options):
        try:
            user, link = supervisor_create(
                email=email, site_url=settings.VIGIE_BASE_URL, first_name=first_name, last_name=last_name
            )
        except ValidationError as exc:
            raise CommandError("Compte non créé : " + " ".join(exc.messages)) from exc
        days = settings.PASSWORD_RESET_TIMEOUT // (24 * 3600)
        self.stdout.write(self.style.SUCCESS(f"Compte superviseur n° {user.pk} créé, sans mot de passe."))
        self.stdout.write(
            f"Lien pour choisir le mot de passe (une seule fois, valable {days} jours ; ne le transmettez qu'à "
            f"la personne concernée) :\n{link}"
        )
        self.stdout.write("À la première connexion, elle activera sa double authentification.")
