from django.apps import AppConfig


class CidffConfig(AppConfig):
    name = "cidff"
    verbose_name = "CIDFF — évaluation du danger"

    def ready(self):
        from cidff import selectors, views
        from referrals import hooks
        from referrals.pages import register_panel

        hooks.guard("report_sent", selectors.report_ready_to_send)
        register_panel("evaluation_panel", views.referral_evaluations)
        register_panel("linked_evaluations_panel", views.linked_evaluations_panel)
