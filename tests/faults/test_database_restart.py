"""PostgreSQL gone under traffic, then back: French 503s while it is away (never a 500 nor a trace), the
first success within 10 s of its return, and no process restarted.

In `make test` the outage is cut between gunicorn and PostgreSQL by a TCP relay of the test's own: every open
connection is dropped and new ones refused, as a server restart does, without stopping the server the other
tests share. `make chaos` (VIGIE_FAULTS_RESTART_POSTGRESQL=1, the test alone) stops and starts the real server.
"""

import contextlib
import json
import os
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from tests.auth import sign_in
from tests.faults.conftest import free_port

pytestmark = pytest.mark.django_db(transaction=True)
OUTAGE_SECONDS = 4
BACK_WITHIN_SECONDS = 10


class CuttableRelay:
    """127.0.0.1:<port> → PostgreSQL, byte for byte, until `cut()`; `restore()` listens again on the same port."""

    def __init__(self, upstream: tuple[str, int]):
        self.upstream = upstream
        self.port = free_port()
        self.sockets: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.listener = None

    def restore(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        with self.lock:
            doomed, self.sockets = [self.listener, *self.sockets], set()
        for sock in doomed:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            server = socket.create_connection(self.upstream)
            with self.lock:
                self.sockets |= {client, server}
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(source, target), daemon=True).start()

    @staticmethod
    def _pipe(source, target) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                target.sendall(data)
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class ServerRestart:
    """The machine's PostgreSQL cluster itself, stopped (fast: every session ended) and started again."""

    def __init__(self, upstream: tuple[str, int]):
        self.port = upstream[1]
        self.cluster = [sorted(os.listdir("/etc/postgresql"))[-1], "main"]

    def cut(self) -> None:
        subprocess.run(["pg_ctlcluster", *self.cluster, "stop", "-m", "fast"], check=True)

    def restore(self) -> None:
        subprocess.run(["pg_ctlcluster", *self.cluster, "start"], check=True)
        connection.close()  # the test's own connection died with the server


@pytest.fixture
def database_outage():
    db = settings.DATABASES["default"]
    upstream = (db["HOST"] or "127.0.0.1", int(db["PORT"] or 5432))
    if os.environ.get("VIGIE_FAULTS_RESTART_POSTGRESQL") != "1":
        relay = CuttableRelay(upstream)
        relay.restore()
        return relay
    if not os.path.isdir("/etc/postgresql"):
        pytest.skip("pas de grappe PostgreSQL locale à redémarrer (pg_ctlcluster)")
    return ServerRestart(upstream)


def children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError), open(f"/proc/{entry}/stat") as stat:
                if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                    found.add(int(entry))
    return found


def get(url: str, cookie: str) -> tuple[int, str]:
    request = urllib.request.Request(url, headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"})
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_requests_answer_503_while_postgresql_is_away_and_succeed_soon_after(live_gunicorn, users, database_outage):
    client = Client()
    sign_in(client, users["coord_sud"])
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    db = settings.DATABASES["default"]
    live_gunicorn.env["DATABASE_URL"] = f"postgres://{db['USER']}@127.0.0.1:{database_outage.port}/{db['NAME']}"
    live_gunicorn.start(workers=2, threads=4)
    page, api = f"{live_gunicorn.url}/dossiers/", f"{live_gunicorn.url}/api/v1/referrals/"
    assert get(page, cookie)[0] == 200 and get(api, cookie)[0] == 200
    workers = children(live_gunicorn.process.pid)

    database_outage.cut()
    away = []
    until = time.monotonic() + OUTAGE_SECONDS
    while time.monotonic() < until:
        away += [get(page, cookie), get(api, cookie)]
    database_outage.restore()
    back_at = time.monotonic()
    while get(page, cookie)[0] != 200:
        assert time.monotonic() - back_at < BACK_WITHIN_SECONDS, "pas de réponse 200 dans les 10 s du retour"
        time.sleep(0.2)

    assert away and {status for status, _ in away} == {503}, sorted({status for status, _ in away})
    pages = [body for status, body in away[::2]]
    assert all("momentanément indisponible" in body and "Traceback" not in body for body in pages)
    assert all(json.loads(body)["detail"].startswith("Service momentanément indisponible") for _, body in away[1::2])
    assert get(api, cookie)[0] == 200
    assert children(live_gunicorn.process.pid) == workers, "un worker gunicorn a été relancé"
