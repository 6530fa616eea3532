"""The bench's "loaded server" line: Vigie served by gunicorn as in production, under locust's clients.

`load_run` opens, for each impersonated user, sessions exactly as a login with password and code leaves them,
picks the objects each one may reach through the project's own policies, starts gunicorn against the bench
database, runs locust headless twice (the stack's ceiling on a trivial page, then the working day of every
role, see `locustfile.py`) and reads locust's CSV figures. Only session keys and integer ids leave this
process (a temporary JSON file); the sessions are deleted afterwards.
"""

import csv
import json
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path

import environ
from django.conf import settings
from django.contrib import auth
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, User
from accounts.second_factor import demo_enrol, second_factor_passed
from accounts.sessions import session_closed
from cidff.models import Evaluation, EvaluationReport, EvaluationStatus
from cidff.policies import evaluation_policy
from cidff.selectors import evaluation_list_visible
from cidff.services import report_render
from parquet.selectors import sheet_list_visible
from referrals.selectors import referral_list_visible

PLAN_ENV = "VIGIE_LOAD_PLAN"  # names the JSON file of sessions and ids that the locustfile reads
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
IDS_PER_USER = 30  # of each kind: enough to spread the reads, few enough to stay the user's everyday objects
REPORTS_PER_USER = 5  # transmitted reports each may download, rendered once as the worker would have
TRIVIAL_SECONDS = 15  # the ceiling's run: at most this long (never longer than the working run)
# The same journeys first, not counted: a server in service has compiled its templates and filled its caches
# (the dashboard's figures, the permission ids); the first requests of a freshly started one are not what users get.
WARM_SECONDS = 20
START_SECONDS = 30  # gunicorn must answer within this
STOP_SECONDS = 10  # then it is killed
LOG_TAIL = 2000  # characters of a log quoted in an error
BENCH_CACHE_URL = os.environ.get("BENCH_CACHE_URL", "redis://127.0.0.1:6379/11")

# The locustfile's class for each role (the command line names the ones to run) and for the ceiling.
ROLE_CLASSES = {
    Role.REFERRER: "Referrer",
    Role.EVALUATOR: "Evaluator",
    Role.CIDFF_COORDINATOR: "Coordinator",
    Role.PROSECUTOR: "Prosecutor",
    Role.OPERATOR: "Operator",
    Role.SUPERVISOR: "Supervisor",
}
TRIVIAL_CLASS = "Trivial"


def load_run(
    *, database_url: str, users: dict[str, list[int]], clients: int = 50, seconds: int = 60, port: int = 8765
) -> dict:
    """Figures of the server under `clients` busy professionals for `seconds`, and of its ceiling.

    `users`: role (an accounts.models.Role value) → primary keys of the accounts to impersonate. The current
    process must be configured on `database_url` (the sessions are written there) and in demo mode.
    """
    _require_same_database(database_url)
    session_keys = []
    try:
        plan = _plan(users, clients, session_keys)
        with tempfile.TemporaryDirectory(prefix="vigie-load-") as workdir:
            work = Path(workdir)
            plan_path = work / "plan.json"
            plan_path.write_text(json.dumps(plan))
            with _server(database_url, port, work / "gunicorn.log"):
                host = f"http://127.0.0.1:{port}"
                trivial = _locust(
                    [TRIVIAL_CLASS], clients, min(seconds, TRIVIAL_SECONDS), host, plan_path, work / "trivial"
                )
                journeys = [ROLE_CLASSES[role] for role in plan["roles"]]
                _locust(journeys, clients, min(WARM_SECONDS, seconds), host, plan_path, work / "warm")  # not counted
                working = _locust(journeys, clients, seconds, host, plan_path, work / "load")
    finally:
        sessions_end(session_keys)
    return {**working, "trivial_rps": trivial["rps"], "clients": clients, "seconds": seconds}


# --- the sessions and the ids ---------------------------------------------------------------------------


def _require_same_database(database_url: str) -> None:
    """The sessions are written through this process's connection: it must be the server's database."""
    wanted = environ.Env.db_url_config(database_url)
    current = connection.settings_dict
    if any(str(wanted.get(key) or "") != str(current.get(key) or "") for key in ("ENGINE", "NAME", "HOST", "PORT")):
        raise ImproperlyConfigured(
            "Banc de charge : ce processus doit être configuré sur la base mesurée "
            "(DATABASE_URL identique à database_url)."
        )
    if not settings.VIGIE_DEMO:
        raise ImproperlyConfigured("Le banc de charge ouvre des sessions sans mot de passe : mode démo seulement.")


def _plan(users: dict[str, list[int]], clients: int, keys: list[str]) -> dict:
    """Per role, one entry per session to use: its key and the ids its user may reach (each user gets enough
    sessions for the clients to be, as far as possible, one person logged in once). Each session's key is
    appended to `keys` as soon as it exists, so that a failure half-way still ends them all."""
    accounts = {}
    for role, pks in users.items():
        if role not in Role.values:
            raise ValueError(f"Rôle inconnu : {role!r}.")
        found = list(User.objects.filter(pk__in=pks, role=role, is_active=True))
        if len(found) != len(set(pks)):
            raise ValueError(f"Comptes introuvables, inactifs ou d'un autre rôle parmi ceux du rôle {role!r}.")
        if found:
            accounts[role] = found
    if not accounts:
        raise ValueError("Aucun compte à faire travailler.")
    per_user = math.ceil(clients / sum(len(found) for found in accounts.values()))
    plan = {"cookie": settings.SESSION_COOKIE_NAME, "roles": {}}
    for role, found in accounts.items():
        entries = plan["roles"][role] = []
        for user in found:
            reachable = _reachable(user)
            for _ in range(per_user):
                keys.append(verified_session(user))
                entries.append({"session": keys[-1], **reachable})
    return plan


def verified_session(user: User) -> str:
    """A session as the login leaves it once both factors are given: Django's login (its signals record the
    open session and journal the login), then django-otp's verification with the account's TOTP device."""
    demo_enrol(user=user)  # bench accounts are fictitious: enrolled as the demo accounts are
    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    request = HttpRequest()
    request.method = "POST"
    request.path = request.path_info = "/connexion/code/"
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    request.user = AnonymousUser()
    auth.login(request, user, backend="accounts.backends.AccountBackend")
    second_factor_passed(request=request, user=user, device=device)
    request.session.save()
    return request.session.session_key


def _reachable(user: User) -> dict[str, list[int]]:
    """What the user's everyday pages open, chosen by the policies that serve them (never guessed)."""
    evaluations = evaluation_list_visible(user=user)
    own_drafts = evaluations.filter(status=EvaluationStatus.DRAFT, evaluator=user).order_by("-id")[:IDS_PER_USER]
    drafts = [evaluation.pk for evaluation in own_drafts if evaluation_policy.may_fill(user, evaluation)]
    sent = evaluations.filter(status=EvaluationStatus.SENT, referral__anonymised_at__isnull=True).order_by("-id")
    return {
        "referrals": list(referral_list_visible(user=user).order_by("-id").values_list("pk", flat=True)[:IDS_PER_USER]),
        "drafts": drafts,
        "reports": [_report_stored(evaluation) for evaluation in sent[:REPORTS_PER_USER]],
        "sheets": list(sheet_list_visible(user=user).order_by("-id").values_list("pk", flat=True)[:IDS_PER_USER]),
    }


def _report_stored(evaluation: Evaluation) -> int:
    """The id of a sent evaluation whose report PDF is stored, rendered here by the worker's own service when
    the bulk-filled world holds none yet (the world writes no files: rendering costs a third of a second)."""
    report, _ = EvaluationReport.objects.get_or_create(
        evaluation=evaluation,
        defaults={
            "referral_id": evaluation.referral_id,
            "version": EvaluationReport.objects.filter(referral_id=evaluation.referral_id).count() + 1,
        },
    )
    report_render(report_id=report.pk)
    return evaluation.pk


def sessions_end(keys: list[str]) -> None:
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys:
        store(session_key=key).delete()
        session_closed(session_key=key)


# --- gunicorn and locust --------------------------------------------------------------------------------


def postgres_url(name: str | None = None) -> str:
    """The URL of this process's PostgreSQL database, or of database `name` on the same server."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{name or db['NAME']}"


def bench_process_env(database_url: str) -> dict[str, str]:
    """For a process of the bench (the server, the growth line's probe): the embedded configuration without DEBUG,
    on `database_url`, with this process's secrets and directories: its sessions are signed with the same key, the
    encrypted fields and stored reports read back."""
    return {
        **os.environ,
        "VIGIE_ENV": "embedded",
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CELERY_BROKER_URL": "",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",  # a bench never mails anybody
        "SECRET_KEY": settings.SECRET_KEY,
        "VIGIE_FIELD_KEYS": ",".join(settings.VIGIE_FIELD_KEYS),
        "VIGIE_AUDIT_KEY": settings.VIGIE_AUDIT_KEY,
        "VIGIE_INDEX_KEY": settings.VIGIE_INDEX_KEY,
        "VIGIE_VAR_DIR": str(settings.VAR_DIR),
        "VIGIE_PRIVATE_STORAGE": str(settings.PRIVATE_STORAGE_ROOT),
        "VIGIE_AUDIT_CHECKPOINT_DIR": str(settings.VIGIE_AUDIT_CHECKPOINT_DIR),
        "VIGIE_STATIC_ROOT": str(settings.STATIC_ROOT),
        "CACHE_URL": BENCH_CACHE_URL,  # shared by the workers, as production's web nodes share Redis
        "LOG_LEVEL": "WARNING",
    }


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-LOG_TAIL:] if path.exists() else ""


@contextmanager
def _server(database_url: str, port: int, log_path: Path):
    """gunicorn as deployed (2 gthread workers of 4 threads), answering before the run, stopped after it."""
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise RuntimeError(f"Banc de charge : le port {port} est déjà occupé.")
    command = [sys.executable, "-m", "gunicorn", "config.wsgi", "--worker-class", "gthread", "--workers", "2"]
    command += ["--threads", "4", "--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command,
            cwd=settings.BASE_DIR,
            env=bench_process_env(database_url),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its workers share its process group: a kill reaches them all
        )
        try:
            _wait_answering(process, f"http://127.0.0.1:{port}/connexion/", log_path)
            yield
        finally:
            process.terminate()
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def _wait_answering(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Banc de charge : gunicorn s'est arrêté au démarrage.\n{_tail(log_path)}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"Banc de charge : gunicorn ne répond pas après {START_SECONDS} s.\n{_tail(log_path)}")


def _locust(classes: list[str], clients: int, seconds: int, host: str, plan_path: Path, prefix: Path) -> dict:
    """One headless run; every client starts within a second and the statistics restart once all run."""
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-u", str(clients)]
    command += ["-r", str(clients), "-t", f"{seconds}s", "--host", host, "--csv", str(prefix)]
    command += ["--only-summary", "--reset-stats", "--loglevel", "WARNING", *classes]
    log_path = prefix.with_suffix(".log")
    with log_path.open("wb") as log:
        # Its own directory, so that no locust.conf or pyproject.toml of the project configures it.
        subprocess.run(
            command,
            cwd=prefix.parent,
            env={**os.environ, PLAN_ENV: str(plan_path)},
            stdout=log,
            stderr=subprocess.STDOUT,
            timeout=seconds + 120,
            check=False,  # locust exits 1 when a request failed: the figures say it
        )
    stats = Path(f"{prefix}_stats.csv")
    if not stats.exists():
        raise RuntimeError(f"Banc de charge : locust n'a pas produit de statistiques.\n{_tail(log_path)}")
    return _figures(stats, Path(f"{prefix}_failures.csv"))


def _number(value: str) -> float | None:
    """Locust writes N/A where nothing was measured."""
    try:
        return float(value)
    except ValueError:
        return None


def _figures(stats: Path, failures: Path) -> dict:
    """Totals from the Aggregated row, percentiles and maximum per request; `errors`: each failure and its count."""
    with stats.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    total = next(row for row in rows if row["Name"] == "Aggregated")
    errors = {}
    if failures.exists():
        with failures.open(newline="") as handle:
            for row in csv.DictReader(handle):
                errors[f"{row['Method']} {row['Name']} : {row['Error']}"] = int(row["Occurrences"])
    return {
        "requests": int(total["Request Count"]),
        "failures": int(total["Failure Count"]),
        "rps": _number(total["Requests/s"]),
        "p50_ms": _number(total["50%"]),
        "p95_ms": _number(total["95%"]),
        "p99_ms": _number(total["99%"]),
        "by_name": {
            f"{row['Type']} {row['Name']}": {
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": _number(row["50%"]),
                "p95_ms": _number(row["95%"]),
                "p99_ms": _number(row["99%"]),
                "max_ms": _number(row["Max Response Time"]),
            }
            for row in rows
            if row["Name"] != "Aggregated"
        },
        "errors": errors,
    }
