"""Is Vigie up: the probes of an orchestrator or load balancer, and the 503 answered while the database is down.

- `healthz` (alive): the process answers; it touches nothing, so a database outage never gets it restarted.
- `readyz` (ready): the database, the Celery broker (when there is one) and the private storage answer; the body
  names each check's outcome, never a host, an address or an error message.
- `server_error` (Django's handler500): a request that met an unreachable database gets a 503 asking to retry
  in a moment, not an error page. Middlewares and views alike: Django turns an exception into the 500 handler's
  answer at the layer that raised it, so no middleware above the session could catch it.
"""

import logging
import sys
import uuid

import kombu
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.template import loader
from django.views import defaults
from django.views.decorators.http import require_safe

logger = logging.getLogger(__name__)

PROBE_TIMEOUT = 2  # seconds: the broker check never holds a probe longer
RETRY_AFTER = 5  # seconds, for a client told the database is down
UNAVAILABLE_MESSAGE = "Service momentanément indisponible, réessayez dans quelques instants."
OK, ERROR, NOT_CONFIGURED = "ok", "error", "not_configured"


def _probe_response(body: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


@require_safe
def healthz(request):
    return _probe_response({"status": OK})


def database_check() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return OK


def broker_check() -> str:
    """A connection to the broker, when tasks go through one (not in the eager embedded default)."""
    if not settings.CELERY_BROKER_URL or settings.CELERY_TASK_ALWAYS_EAGER:
        return NOT_CONFIGURED
    with kombu.Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=PROBE_TIMEOUT,
        transport_options={"socket_timeout": PROBE_TIMEOUT},
    ) as broker:
        broker.ensure_connection(max_retries=0)  # no retry: the probe's caller asks again
    return OK


def storage_check() -> str:
    """A file written then deleted, through the Storage API (any backend): a missing or read-only volume fails it,
    where exists() would only answer False. Hidden name: the backups skip it should a delete ever fail."""
    name = default_storage.save(f".readyz-{uuid.uuid4().hex}", ContentFile(b"ok"))
    default_storage.delete(name)
    return OK


READINESS_CHECKS = {"database": database_check, "broker": broker_check, "storage": storage_check}


def _outcome(name: str, check) -> str:
    try:
        return check()
    except Exception as exc:  # whatever fails, the probe answers; the message may hold a host or a path
        logger.warning("Sonde de disponibilité : échec de la vérification %s (%s).", name, type(exc).__name__)
        return ERROR


@require_safe
def readyz(request):
    checks = {name: _outcome(name, check) for name, check in READINESS_CHECKS.items()}
    ready = ERROR not in checks.values()
    return _probe_response({"status": OK if ready else ERROR, "checks": checks}, status=200 if ready else 503)


def server_error(request):
    """Django's 500 page, or a 503 ("retry in a moment") when the database cannot be reached."""
    exc = sys.exc_info()[1]  # called while Django handles the exception
    if not isinstance(exc, OperationalError | InterfaceError):
        return defaults.server_error(request)
    # One line, without the driver's message: it may quote the SQL or its values.
    logger.warning("Base de données injoignable (%s) : réponse 503.", type(exc).__name__)
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": UNAVAILABLE_MESSAGE}, status=503)
    else:  # rendered without a request: no context processor, nothing that reads the database
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    response._has_been_logged = True  # Django would log it again as an error, with the driver's message
    return response
