"""Django's flush, which also empties the journal outside production (tests, demo); production refuses it."""

from django.conf import settings
from django.core.management.commands import flush
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from audit.services import allow_journal_purge


class Command(flush.Command):
    def handle(self, **options):
        if settings.PRODUCTION:
            return super().handle(**options)  # the journal's trigger refuses the TRUNCATE
        database = options.get("database", DEFAULT_DB_ALIAS)
        with transaction.atomic(using=database):
            allow_journal_purge(connections[database])
            return super().handle(**options)
