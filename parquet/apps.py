from django.apps import AppConfig


class ParquetConfig(AppConfig):
    name = "parquet"
    verbose_name = "Parquet — décisions et téléphones"

    def ready(self):
        from parquet import deadline_rules, selectors
        from parquet.queues import QUEUES
        from parquet.views.measure import measure_panel
        from referrals import hooks
        from referrals.pages import register_panel
        from referrals.queues import register_queue
        from referrals.workflow import TRANSITIONS, DeadlineKind

        hooks.deadline_rule(deadline_rules.complement_and_decision)
        hooks.deadline_rule(deadline_rules.measure)
        hooks.automatic_step(DeadlineKind.REEVALUATION, deadline_rules.reevaluation_due)
        hooks.automatic_step(DeadlineKind.TERM, deadline_rules.term_reached)
        for transition in TRANSITIONS:
            if transition.action.startswith("decision_"):
                hooks.guard(transition.action, selectors.decision_awaited)
        register_panel("measure_panel", measure_panel)
        for queue in QUEUES:
            register_queue(queue)
