"""The admin application, with Vigie's OTP admin site as the default site."""

from django.contrib.admin.apps import AdminConfig


class VigieAdminConfig(AdminConfig):
    default_site = "config.admin_site.VigieAdminSite"
