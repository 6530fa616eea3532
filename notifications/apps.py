from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        from notifications.services import notice_deliver
        from referrals import hooks

        hooks.on_notice(notice_deliver)
