from django.core.management.base import BaseCommand, CommandError

from audit.services import audit_verify_chain


class Command(BaseCommand):
    help = "Vérifie la chaîne de hachage du journal des accès ; échoue à la première rupture."

    def handle(self, *args, **options):
        checked, broken = audit_verify_chain()
        if broken is not None:
            raise CommandError(
                f"Journal altéré : rupture de la chaîne à l'événement n° {broken.pk} ({checked} vérifiés avant)."
            )
        self.stdout.write(self.style.SUCCESS(f"Journal intègre : {checked} événements vérifiés."))
