from django.apps import AppConfig


class RetentionConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "retention"
    verbose_name = "Conservation des données"

    def ready(self):
        from referrals.pages import register_panel
        from retention.selectors import legal_hold_panel

        register_panel("legal_hold_panel", legal_hold_panel)
