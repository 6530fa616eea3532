"""The browser suite: Debian's Chromium driven by Playwright against a live server on the test database.

Every page visited is checked by axe-core (vendored in static/vendor/axe-core, injected by the test only)
at desktop width, then at 768 px for horizontal scrolling; a full-page screenshot of each step is kept in
var/screenshots/ (CI keeps var/ as artifacts). Signing in goes through the real login pages: password,
then the current TOTP code, computed here from the account's device (the live server shares the database).
"""

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import sync_playwright

from tests.factories import TEST_PASSWORD

ROOT = Path(__file__).resolve().parents[2]
AXE_VERSION = "4.11.1"
AXE = ROOT / "static" / "vendor" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BLOCKING_IMPACTS = ("critical", "serious", "moderate")
NARROW_WIDTH = 768
DESKTOP = {"width": 1280, "height": 900}


def chromium_path() -> str | None:
    found = os.environ.get("VIGIE_CHROMIUM") or next(
        (path for path in CHROMIUM_CANDIDATES if os.access(path, os.X_OK)), None
    )
    return found or shutil.which("chromium")


def pytest_collection_modifyitems(config, items):
    """Every test here: marker `browser`, one xdist group (one Chromium at a time), skipped without Chromium."""
    here = Path(__file__).resolve().parent
    missing = chromium_path() is None
    for item in items:
        if Path(item.path).resolve().is_relative_to(here):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.xdist_group("browser"))
            if missing:
                item.add_marker(
                    pytest.mark.skip(
                        reason="Chromium introuvable (/usr/bin/chromium) : `apt-get install -y chromium` "
                        "(la CI l'installe) ou VIGIE_CHROMIUM=/chemin/vers/chromium."
                    )
                )


@pytest.fixture
def chromium(pytestconfig, monkeypatch):
    """Debian's Chromium, launched for one test and stopped after it (pytest-playwright's --headed/--slowmo apply).

    Not pytest-playwright's session-wide browser: while Playwright's sync API runs, its event loop is the
    thread's running loop, so Django's async guard must be off (DJANGO_ALLOW_ASYNC_UNSAFE) — only as long
    as this test runs, never for the other tests of the same xdist worker. Torn down before the database.
    """
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path(),
            args=CHROMIUM_ARGS,
            headless=not pytestconfig.getoption("headed", False),
            slow_mo=pytestconfig.getoption("slowmo", 0) or 0,
        )
        try:
            yield browser
        finally:
            browser.close()


def totp_code(user) -> str:
    """The account's current TOTP code, as its authenticator application would show it."""
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@dataclass
class Visitor:
    """One signed-in person in their own browser context; checks every page it is shown."""

    tour: "Tour"
    name: str
    page: object

    def goto(self, path: str):
        self.page.goto(self.tour.base_url + path)
        return self.page

    def check(self, step: str):
        """axe on the page as it is, a full-page screenshot, then no horizontal scrolling at 768 px."""
        self.tour.check(self.page, step)
        return self.page


@dataclass
class Tour:
    base_url: str
    browser: object
    screenshots: Path  # var/screenshots/<test>/
    visitors: dict = field(default_factory=dict)
    violations: list = field(default_factory=list)
    overflows: list = field(default_factory=list)
    steps: int = 0

    def new_page(self):
        context = self.browser.new_context(
            viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris", bypass_csp=True
        )  # bypass_csp: the CSP would refuse the injected axe script (nothing else relies on it)
        context.set_default_timeout(15_000)
        return context.new_page()

    def sign_in(self, user) -> Visitor:
        """The real way: e-mail and password, then the TOTP code on « Code de vérification »."""
        if user.email in self.visitors:
            return self.visitors[user.email]
        page = self.new_page()
        page.goto(self.base_url + "/connexion/")
        self.check(page, f"connexion-{user.email.split('@')[0]}", screenshot=not self.visitors)
        page.get_by_label("Adresse e-mail").fill(user.email)
        page.get_by_label("Mot de passe").fill(TEST_PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        page.get_by_role("heading", name="Code de vérification").wait_for()
        if not self.visitors:
            self.check(page, "code-de-verification")
        page.get_by_label("Code de vérification").fill(totp_code(user))
        page.get_by_role("button", name="Valider").click()
        page.wait_for_url(lambda url: "/connexion/" not in url)
        visitor = Visitor(tour=self, name=user.email, page=page)
        self.visitors[user.email] = visitor
        return visitor

    def check(self, page, step: str, screenshot: bool = True):
        page.wait_for_load_state("load")
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE))
        found = page.evaluate(
            """async () => {
                const result = await axe.run(document, {resultTypes: ["violations"]});
                return result.violations.map(v => ({
                    id: v.id, impact: v.impact, help: v.help,
                    targets: v.nodes.map(n => n.target.join(" ") + " (" + (n.any[0] || {}).message + ")"),
                }));
            }"""
        )
        where = re.sub(r"^https?://[^/]+", "", page.url)
        for violation in found:
            if violation["impact"] in BLOCKING_IMPACTS:
                self.violations.append(
                    f"{step} ({where}): {violation['id']} [{violation['impact']}] {violation['help']} "
                    f"— {', '.join(violation['targets'][:5])}"
                )
        if screenshot:
            self.steps += 1
            self.screenshots.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(self.screenshots / f"{self.steps:02d}-{step}.png"), full_page=True)
        page.set_viewport_size({"width": NARROW_WIDTH, "height": DESKTOP["height"]})
        try:
            widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
            if widths[0] > widths[1]:
                wide = page.evaluate(  # the outermost elements wider than the window: the culprits
                    """(limit) => [...document.querySelectorAll("body *")]
                        .filter(e => e.getBoundingClientRect().right > limit + 1
                            && e.parentElement.getBoundingClientRect().right <= limit + 1)
                        .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "")
                            + (e.className ? "." + String(e.className).split(" ").join(".") : "")
                            + " in " + [...Array(4)].reduce((acc, _, i) => { const a = acc.el && acc.el.parentElement;
                                return a ? {el: a, s: acc.s + " < " + a.tagName.toLowerCase() + (a.className ? "."
                                + String(a.className).split(" ").join(".") : "") + " (" + getComputedStyle(a).overflowX
                                + ")"} : acc; }, {el: e, s: ""}).s)""",
                    widths[1],
                )
                self.overflows.append(f"{step} ({where}): scrollWidth {widths[0]} > {widths[1]} — {wide}")
        finally:
            page.set_viewport_size(DESKTOP)

    def assert_clean(self):
        problems = []
        if self.violations:
            problems.append("axe-core (critical/serious/moderate):\n  " + "\n  ".join(self.violations))
        if self.overflows:
            problems.append(f"défilement horizontal à {NARROW_WIDTH} px :\n  " + "\n  ".join(self.overflows))
        assert not problems, "\n".join(problems)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if call.when == "call":
        item.browser_failed = report.failed
    return report


@pytest.fixture
def tour(request, live_server, world, chromium):
    tour = Tour(base_url=live_server.url, browser=chromium, screenshots=SCREENSHOTS / request.node.name)
    shutil.rmtree(tour.screenshots, ignore_errors=True)  # this run's steps only, no failure left from a past one
    yield tour
    for visitor in tour.visitors.values():
        if getattr(request.node, "browser_failed", False):  # where each person was when the test failed
            stem = tour.screenshots / f"echec-{visitor.name.split('@')[0]}"
            tour.screenshots.mkdir(parents=True, exist_ok=True)
            visitor.page.screenshot(path=f"{stem}.png", full_page=True)
            stem.with_suffix(".txt").write_text(visitor.page.url + "\n" + visitor.page.locator("body").aria_snapshot())
        visitor.page.context.close()
