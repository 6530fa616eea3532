from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Signalements"

    def ready(self):
        from referrals import deadline_rules, hooks

        hooks.deadline_rule(deadline_rules.acknowledgement_and_evaluation)
        hooks.deadline_rule(deadline_rules.author_release)
