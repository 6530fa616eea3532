"""Locust's clients for the bench's loaded-server line (run by demo/bench/load.py; nothing here imports Django).

One class per role: a busy professional going through her everyday pages, weighted like her real work. The
signed-in sessions and the ids each may open come from the JSON file named by VIGIE_LOAD_PLAN: session keys
and integer ids only, never personal data. Any answer but a 2xx is a failure: no page of these journeys
redirects a verified session, so a 3xx means the session was refused, a 403 or 404 a wrong id.
"""

import itertools
import json
import os
import random
import re
from pathlib import Path
from urllib.parse import urlparse

from locust import FastHttpUser, between, constant, task
from locust.exception import RescheduleTaskImmediately
from requests.cookies import create_cookie

PLAN = json.loads(Path(os.environ["VIGIE_LOAD_PLAN"]).read_text())
IDENTITIES = {role: itertools.cycle(entries) for role, entries in PLAN["roles"].items()}
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
AUTOSAVES = 3  # PATCHes per visit of the evaluation form, as evaluation.js sends them while she types
THINK = between(1, 3)  # seconds between two pages of one person


class Professional(FastHttpUser):
    """A signed-in person of one role: her session cookie, the ids she may open, strict answers."""

    abstract = True
    role = ""
    wait_time = THINK
    # A connection per request, as a reverse proxy's upstream does by default: a connection kept across her
    # pause would meet gunicorn's 2 s keep-alive, whose closing a browser retries unseen but locust reports.
    default_headers = {"Connection": "close"}

    def on_start(self):
        identity = next(IDENTITIES[self.role])
        self.ids = identity
        cookie = create_cookie(PLAN["cookie"], identity["session"], domain=urlparse(self.host).hostname)
        self.client.cookiejar.set_cookie(cookie)
        # Her first page comes after a pause like every other: the clients all start within a second, and
        # fifty first requests at the same instant would measure a stampede no working day has, not the load.
        self.wait()

    def pick(self, kind: str) -> int:
        """One of the ids of `kind` she may open; none, and she does something else."""
        if not self.ids[kind]:
            raise RescheduleTaskImmediately()
        return random.choice(self.ids[kind])

    def call(self, method: str, path: str, name: str | None = None, **kwargs):
        with self.client.request(
            method, path, name=name or path, catch_response=True, allow_redirects=False, **kwargs
        ) as response:
            if 300 <= response.status_code < 400:
                response.failure(f"redirection {response.status_code} vers {response.headers.get('Location')}")
        return response

    # --- the journeys (each role weighs them in its `tasks`) ---------------------------------------------

    def dossier_list(self):
        self.call("GET", "/dossiers/")

    def dossier_list_api(self):
        self.call("GET", "/api/v1/referrals/")

    def dossier_detail(self):
        self.call("GET", f"/dossiers/{self.pick('referrals')}/", name="/dossiers/[id]/")

    def dossier_detail_api(self):
        self.call("GET", f"/api/v1/referrals/{self.pick('referrals')}/", name="/api/v1/referrals/[id]/")

    def notifications(self):
        self.call("GET", "/notifications/")

    def dashboard(self):
        self.call("GET", "/tableau-de-bord/")

    def decision_inbox(self):
        self.call("GET", "/rapports-a-decider/")

    def report_pdf(self):
        self.call("GET", f"/evaluations/{self.pick('reports')}/rapport.pdf", name="/evaluations/[id]/rapport.pdf")

    def sheet_list(self):
        self.call("GET", "/beneficiaires/")

    def sheet(self):
        self.call("GET", f"/beneficiaires/{self.pick('sheets')}/", name="/beneficiaires/[id]/")

    def autosave(self):
        """Her draft evaluation open, typing: the form, then PATCHes with its CSRF token as evaluation.js sends
        them; the body re-sends the narrative as it stands, so the evaluation is saved unchanged."""
        evaluation = self.pick("drafts")
        with self.client.get(
            f"/evaluations/{evaluation}/", name="/evaluations/[id]/", catch_response=True, allow_redirects=False
        ) as page:
            token = CSRF_INPUT.search(page.text or "") if page.status_code == 200 else None
            if page.status_code == 200 and token is None:
                page.failure("formulaire d'évaluation sans jeton CSRF")
            elif 300 <= page.status_code < 400:
                page.failure(f"redirection {page.status_code} vers {page.headers.get('Location')}")
        if token is None:
            return
        api = f"/api/v1/evaluations/{evaluation}/"
        current = self.call("GET", api, name="/api/v1/evaluations/[id]/")
        if current.status_code != 200:
            return
        body = {"narrative": current.json()["narrative"]}
        headers = {"X-CSRFToken": token.group(1), "X-Requested-With": "XMLHttpRequest"}
        for _ in range(AUTOSAVES):
            self.wait()
            self.call("PATCH", api, name="/api/v1/evaluations/[id]/", json=body, headers=headers)


def everyday(*, lists: int, details: int, extra: dict | None = None) -> dict:
    """The dossier reading every professional does (web and API, notifications), weighted, plus the role's own."""
    return {
        Professional.dossier_list: lists,
        Professional.dossier_detail: details,
        Professional.dossier_list_api: 1,
        Professional.dossier_detail_api: 1,
        Professional.notifications: 1,
        **(extra or {}),
    }


class Referrer(Professional):
    role = "referrer"
    weight = 3
    tasks = everyday(lists=3, details=3)


class Evaluator(Professional):
    role = "evaluator"
    weight = 4
    tasks = everyday(lists=2, details=3, extra={Professional.autosave: 3})


class Coordinator(Professional):
    role = "cidff_coordinator"
    weight = 2
    tasks = everyday(lists=3, details=3, extra={Professional.report_pdf: 1, Professional.dashboard: 1})


class Prosecutor(Professional):
    role = "prosecutor"
    weight = 2
    tasks = everyday(lists=1, details=3, extra={Professional.decision_inbox: 2, Professional.report_pdf: 2})


class Operator(Professional):
    role = "operator"
    weight = 1
    tasks = {Professional.sheet_list: 3, Professional.sheet: 4, Professional.notifications: 1}


class Supervisor(Professional):
    role = "supervisor"
    weight = 1
    tasks = {Professional.dashboard: 3, Professional.dossier_list: 1, Professional.notifications: 1}


class Trivial(FastHttpUser):
    """The stack's ceiling: the login page, which reads no database without a session, without a pause."""

    wait_time = constant(0)

    @task
    def login_page(self):
        self.client.get("/connexion/", name="/connexion/")
