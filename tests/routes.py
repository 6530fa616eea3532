"""The site's routes, read from the URL resolver, never from a hand list: a new route is swept as soon as it exists.

Shared by the input sweeps (`tests/core/test_api_inputs.py`) and the permission matrix
(`tests/security/test_route_matrix.py`).
"""

from django.urls import URLResolver, get_resolver

from cidff.models import Evaluation
from notifications.models import Notification
from parquet.models import Alert, Attribution, Decision, Device
from referrals.models import Referral, ReferralDocument

# The model whose id fills the `pk` of each API resource (by the route's name prefix).
API_MODELS = {
    "api-referral-": Referral,
    "api-document-": ReferralDocument,
    "api-notification-": Notification,
    "api-evaluation-": Evaluation,
    "api-decision-": Decision,
    "api-device-": Device,
    "api-attribution-": Attribution,
    "api-alert-": Alert,
}


def resolver_patterns():
    """Every named URL pattern of the site but the admin's."""

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.app_name != "admin":
                    yield from walk(pattern.url_patterns)
            elif pattern.name:
                yield pattern

    yield from walk(get_resolver().url_patterns)


def pattern_methods(pattern) -> set[str]:
    """The HTTP methods a pattern's view answers (a plain Django view: GET and POST)."""
    callback = pattern.callback
    if getattr(callback, "actions", None):  # a DRF viewset route: its methods are mapped
        return set(callback.actions) - {"head", "options"}  # HEAD answers as GET does
    if hasattr(callback, "cls"):  # a DRF APIView
        return {m for m in callback.cls.http_method_names if hasattr(callback.cls, m)} - {"head", "options"}
    return {"get", "post"}


def resolver_routes():
    """(name, parameter names, HTTP methods) of every named route of the site but the admin's."""
    for pattern in resolver_patterns():
        yield pattern.name, list(pattern.pattern.regex.groupindex), pattern_methods(pattern)


def is_id(parameter: str) -> bool:
    return parameter in ("pk", "id") or parameter.endswith("_id")
