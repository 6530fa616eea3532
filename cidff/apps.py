from django.apps import AppConfig


class CidffConfig(AppConfig):
    name = "cidff"
    verbose_name = "CIDFF — évaluation du danger"

    def ready(self):
        from cidff import selectors, views
        from cidff.queues import QUEUES
        from referrals import hooks
        from referrals.pages import register_panel
        from referrals.queues import register_queue

        hooks.guard("report_sent", selectors.report_ready_to_send)
        for queue in QUEUES:
            register_queue(queue)
        register_panel("evaluation_panel", views.referral_evaluations)
        register_panel("linked_evaluations_panel", views.linked_evaluations_panel)
