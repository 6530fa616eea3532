from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_role_groups(sender, **kwargs):
    from accounts.roles import sync_role_groups

    sync_role_groups()


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Comptes et organisations"

    def ready(self):
        # Reference data, not business logic: role groups follow accounts.roles after every migrate.
        post_migrate.connect(_sync_role_groups, dispatch_uid="vigie_sync_role_groups")
        from accounts import schema, signals  # noqa: F401  (OpenAPI extension, login journal)
