"""The account backend: Django's, with the account's group ids loaded in the same query.

Every list filters by the grants of the user and of her groups (`core.policies.ObjectGrants`). Given the
group ids as literal values, PostgreSQL estimates from its statistics how many dossiers a CIDFF or a parquet
holds and plans the lists accordingly; read per request, a change of groups applies at the next page.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.postgres.aggregates import ArrayAgg
from django.db import connection
from django.db.models import Q


class AccountBackend(ModelBackend):
    def get_user(self, user_id):
        users = get_user_model()._default_manager.all()
        if connection.vendor == "postgresql":  # elsewhere the grant filters read the groups in a subquery
            users = users.annotate(group_ids=ArrayAgg("groups", filter=Q(groups__isnull=False), default=[]))
        user = users.filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
