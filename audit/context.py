"""The client IP of the request being served, for the journal (services never see requests)."""

from contextvars import ContextVar

current_ip: ContextVar[str | None] = ContextVar("vigie_current_ip", default=None)


class AuditContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = current_ip.set(request.META.get("REMOTE_ADDR") or None)
        try:
            return self.get_response(request)
        finally:
            current_ip.reset(token)
