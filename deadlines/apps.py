from django.apps import AppConfig


class DeadlinesConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "deadlines"
    verbose_name = "Échéances"

    def ready(self):
        from deadlines.queues import QUEUE
        from deadlines.selectors import deadline_panel
        from deadlines.services import deadlines_after_transition, deadlines_on_fact
        from referrals import hooks
        from referrals.pages import register_panel
        from referrals.queues import register_queue

        hooks.on_transition(deadlines_after_transition)
        hooks.on_fact(deadlines_on_fact)
        register_panel("deadlines", deadline_panel)
        register_queue(QUEUE)
