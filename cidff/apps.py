from django.apps import AppConfig


class CidffConfig(AppConfig):
    name = "cidff"
    verbose_name = "CIDFF — évaluation du danger"
