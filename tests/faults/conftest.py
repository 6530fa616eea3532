"""Real production processes beside the tests: gunicorn serving the test database over real HTTP."""

import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.conftest import ROOT, process_env

START_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """`gunicorn config.wsgi` as production runs it (gthread workers), on the test database, without DEBUG."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / "gunicorn.log"
        self.env = process_env(tmp_path, DEBUG="0", CELERY_BROKER_URL="", CELERY_TASK_ALWAYS_EAGER="1")
        self.process = None

    def start(self, *, workers: int = 2, threads: int = 25) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--worker-class",
                "gthread",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn s'est arrêté au démarrage :\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.url}/connexion/", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.3)
        pytest.fail(f"gunicorn ne répond pas en {START_SECONDS} s :\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def live_gunicorn(tmp_path):
    server = Gunicorn(tmp_path)
    try:
        yield server
    finally:
        server.stop()


class OwnRedis:
    """A Redis server of the test's own, on a free port, that the test stops and starts again (nothing on disk)."""

    def __init__(self):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"redis-server ne répond pas sur le port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def own_redis():
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server absent de cette machine")
    server = OwnRedis()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def jobs_all_done(*, within: float) -> bool:
    """Whether every job of the outbox gets done within `within` seconds (the test's processes at work)."""
    from core.models import Job

    deadline = time.monotonic() + within
    while Job.objects.filter(done_at__isnull=True).exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(1)
    return True


def message_ids(mail_dir) -> list[str]:
    """The Message-ID of every e-mail the processes wrote (file backend), one per message sent."""
    return [
        line.split(":", 1)[1].strip()
        for path in mail_dir.glob("*.log")
        for line in path.read_text().splitlines()
        if line.startswith("Message-ID:")
    ]
