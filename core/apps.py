from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Socle"

    def ready(self):
        from core.policies import forget_permission_ids

        post_migrate.connect(forget_permission_ids, dispatch_uid="vigie_forget_permission_ids")
