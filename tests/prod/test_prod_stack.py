"""`make prod` for real: the same launcher (deploy/prod) on a throwaway database, directory and port, then the first
supervisor's whole way in over TLS — her password link, the login, the second-factor enrolment, the admin.

Slow (about a minute): it migrates a new database and starts gunicorn, a Celery worker and beat through honcho.
"""

import base64
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
import requests
from django.db import connection
from django_otp.oath import TOTP
from psycopg import sql

from tests.clock import real_now
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
START_SECONDS = 180
EMAIL = "pilotage@vigie.test"
STRONG = "Un secret bien à moi 2027 !"


def _csrf(page: requests.Response) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _processes() -> dict[int, tuple[int, str]]:
    """Every process of the machine: pid → (parent pid, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            except (OSError, IndexError):
                continue
            found[int(entry.name)] = (parent, command)
    return found


def _descendants(root: int) -> dict[int, str]:
    table = _processes()
    family, frontier = {}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, command) in table.items():
            if ppid == parent and pid not in family:
                family[pid] = command
                frontier.append(pid)
    return family


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class Stack:
    """deploy/prod started in its own session, on its own var directory, database and port."""

    def __init__(self, tmp_path: Path, broker_url: str):
        db = connection.settings_dict
        self.database = f"vigie_prod_test_{secrets.token_hex(4)}"
        self.server = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}"
        self.port = _free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.dir = tmp_path / "prod"
        self.cert = self.dir / "tls" / "cert.pem"
        self.log = tmp_path / "prod.log"
        # Nothing of the test session's environment (its database, eager Celery, pinned clock) leaks in.
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "VIGIE_PYTHON": sys.executable,
            "VIGIE_PROD_DIR": str(self.dir),
            "VIGIE_PROD_PORT": str(self.port),
            "VIGIE_PROD_DATABASE_URL": f"{self.server}/{self.database}",
            "VIGIE_PROD_REDIS_URL": broker_url,
        }
        self.family: dict[int, str] = {}
        self.process = None

    def start(self):
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(ROOT / "deploy" / "prod")],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def get(self, path: str) -> requests.Response:
        return requests.get(self.url + path, verify=self.cert, timeout=10, allow_redirects=False)

    def wait_ready(self) -> None:
        """`/readyz` (database and broker answer) over TLS, the certificate checked against the generated one."""
        deadline = time.monotonic() + START_SECONDS
        last = "rien encore"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                pytest.fail(f"deploy/prod s'est arrêté (code {code}) avant de servir :\n{self.output()}")
            if self.cert.exists():
                try:
                    answer = self.get("/readyz")
                    if answer.status_code == 200:
                        return
                    last = f"HTTP {answer.status_code} : {answer.text[:300]}"
                except requests.RequestException as exc:
                    last = repr(exc)
            time.sleep(1)
        pytest.fail(f"{self.url}/readyz ne répond pas 200 en {START_SECONDS} s ({last}) :\n{self.output()}")

    def wait_logged(self, text: str, seconds: int = 60) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.output():
            if time.monotonic() > deadline:
                pytest.fail(f"« {text} » absent du journal de honcho après {seconds} s :\n{self.output()}")
            time.sleep(0.5)

    def manage(self, *arguments) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(ROOT / "deploy" / "manage-prod"), *arguments],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def watch(self) -> dict[int, str]:
        """The launcher's processes now (remembered, so that none may outlive the stop)."""
        current = _descendants(self.process.pid)
        self.family.update(current)
        return current

    def stop(self) -> list[str]:
        """SIGTERM to honcho, which stops its children (each in its own session); returns any survivor, killed."""
        if self.process is None:
            return []
        if self.process.poll() is None:
            self.watch()
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in self.family) and time.monotonic() < deadline:
            time.sleep(0.5)
        survivors = [f"{pid} {command}" for pid, command in self.family.items() if _alive(pid)]
        for pid in self.family:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        return survivors

    def drop_database(self) -> None:
        with psycopg.connect(f"{self.server}/postgres", autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.database)))


@pytest.fixture
def stack(broker_url, tmp_path):
    missing = [name for name in ("honcho", "gunicorn", "celery") if not (BIN / name).exists()]
    if missing:
        pytest.skip(f"{', '.join(missing)} absent(s) de {BIN} : lancez `make install`.")
    running = Stack(tmp_path, broker_url)
    running.start()
    try:
        yield running
    finally:
        survivors = running.stop()
        running.drop_database()
        print(running.output())
        assert survivors == [], f"processus encore vivants après l'arrêt de honcho : {survivors}"


def _totp(secret_text: str) -> str:
    """The code an authenticator shows now (the machine's clock, as the server's: not the test clock)."""
    secret = secret_text.replace(" ", "")
    totp = TOTP(base64.b32decode(secret + "=" * (-len(secret) % 8)))
    totp.time = real_now().timestamp()
    return f"{totp.token():06d}"


def test_make_prod_serves_tls_and_lets_the_first_supervisor_in(stack):
    stack.wait_ready()
    stack.wait_logged("celery@")  # the worker's name, then "celery@<host> ready."
    stack.wait_logged(" ready.")
    stack.wait_logged("beat: Starting...")

    commands = [command for command in stack.watch().values() if not command.startswith("/bin/sh")]
    assert sum("celery -A config worker" in command for command in commands) >= 1, commands
    assert sum("celery -A config beat" in command for command in commands) == 1, commands
    assert sum("gunicorn --config deploy/gunicorn.conf.py" in command for command in commands) == os.cpu_count() + 1

    env_file = stack.dir / "env"
    assert env_file.stat().st_mode & 0o777 == 0o600
    assert (stack.dir / "tls" / "key.pem").stat().st_mode & 0o777 == 0o600
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if not line.startswith("#"))
    keys = [values[name] for name in ("SECRET_KEY", "VIGIE_FIELD_KEYS", "VIGIE_AUDIT_KEY", "VIGIE_INDEX_KEY")]
    assert len(set(keys)) == 4 and values["VIGIE_ENV"] == "production"
    assert "Premier compte superviseur" in stack.output() and "System check identified no issues" in stack.output()

    login_page = stack.get("/connexion/")
    assert login_page.status_code == 200
    assert login_page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Secure" in login_page.headers["Set-Cookie"]

    created = stack.manage("create_supervisor", EMAIL, "--first-name", "Anne", "--last-name", "Martin")
    assert created.returncode == 0, created.stderr
    link = re.search(re.escape(stack.url) + r"/mot-de-passe/nouveau/\S+/", created.stdout).group(0)
    again = stack.manage("create_supervisor", EMAIL)
    assert again.returncode == 1 and "Un compte existe déjà" in again.stderr

    browser = requests.Session()
    browser.verify = str(stack.cert)
    browser.trust_env = False  # no proxy between the test and 127.0.0.1

    def post(page, data):
        return browser.post(
            page.url, {**data, "csrfmiddlewaretoken": _csrf(page)}, headers={"Referer": page.url}, timeout=10
        )

    form = browser.get(link, timeout=10)
    assert form.status_code == 200 and 'name="new_password1"' in form.text, form.text[:2000]
    done = post(form, {"new_password1": STRONG, "new_password2": STRONG})
    assert done.status_code == 200 and done.url == f"{stack.url}/mot-de-passe/nouveau/termine/"

    login = browser.get(f"{stack.url}/connexion/", timeout=10)
    enrol = post(login, {"username": EMAIL, "password": STRONG})
    assert enrol.url.startswith(f"{stack.url}/connexion/application/"), enrol.url
    secret = re.search(r'class="enrol__secret">([A-Z2-7 ]+)<', enrol.text).group(1)
    codes = post(enrol, {"code": _totp(secret), "next": "/"})
    assert codes.status_code == 200 and "Vos codes de secours" in codes.text, codes.text[:2000]

    home = browser.get(f"{stack.url}/", timeout=10)
    assert home.status_code == 200 and home.url == f"{stack.url}/admin/"  # a supervisor lands in the admin
    users = browser.get(f"{stack.url}/admin/accounts/user/", timeout=10)
    assert users.status_code == 200 and EMAIL in users.text
