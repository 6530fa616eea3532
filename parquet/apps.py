from django.apps import AppConfig


class ParquetConfig(AppConfig):
    name = "parquet"
    verbose_name = "Parquet — décisions et téléphones"
