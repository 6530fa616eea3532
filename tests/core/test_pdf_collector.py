"""The cycle collector is paused while documents render and resumes when the last render of the process ends."""

import gc
import io
import threading

import pytest
from pypdf import PdfReader

from core import pdf


@pytest.fixture(autouse=True)
def _collector_on():
    assert gc.isenabled()
    yield
    gc.enable()


def test_a_render_runs_without_the_collector_and_gives_it_back(monkeypatch):
    seen = []
    original = pdf.HTML.write_pdf

    def write_pdf(self, *args, **kwargs):
        seen.append(gc.isenabled())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(pdf.HTML, "write_pdf", write_pdf)
    document = pdf.html_to_pdf('<html lang="fr"><body><p>Une page.</p></body></html>')

    assert seen == [False]
    assert gc.isenabled()
    assert len(PdfReader(io.BytesIO(document)).pages) == 1


def test_a_failed_render_gives_the_collector_back():
    with pytest.raises(pdf.ExternalResourceRefused), pdf.cycle_collector_paused():
        raise pdf.ExternalResourceRefused("x")
    assert gc.isenabled()


def test_the_first_render_to_end_leaves_the_collector_off_for_the_one_still_running():
    first_inside, first_may_leave = threading.Event(), threading.Event()
    states = {}

    def first():
        with pdf.cycle_collector_paused():
            first_inside.set()
            first_may_leave.wait(5)
            states["first, after the second ended"] = gc.isenabled()

    thread = threading.Thread(target=first)
    thread.start()
    assert first_inside.wait(5)
    with pdf.cycle_collector_paused():
        states["second"] = gc.isenabled()
    first_may_leave.set()
    thread.join(5)

    assert states == {"second": False, "first, after the second ended": False}
    assert gc.isenabled()


def test_a_collector_switched_off_elsewhere_stays_off():
    gc.disable()
    with pdf.cycle_collector_paused():
        pass
    assert not gc.isenabled()
