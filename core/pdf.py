"""PDF rendering with WeasyPrint, offline: the only resources a document may load are ours.

The stylesheet comes from our static files, parsed once, and the URL fetcher refuses everything
but `data:` URIs, so content that slipped into a document can never make the server fetch a URL
(SSRF guard: no http, no file://, no redirects).
"""

import functools
import gc
import logging
import threading
from contextlib import contextmanager

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher

logger = logging.getLogger(__name__)


class ExternalResourceRefused(ValueError):
    pass


class OfflineURLFetcher(URLFetcher):
    """Only `data:` URIs; every other URL is refused before any connection or file read."""

    def __init__(self):
        super().__init__(allowed_protocols={"data"}, allow_redirects=False, timeout=1)

    def fetch(self, url, headers=None):
        if not url.startswith("data:"):
            logger.warning("PDF : ressource externe refusée (schéma %s)", url.split(":", 1)[0][:10])
            raise ExternalResourceRefused("Ressource externe refusée.")
        return super().fetch(url, headers)


def static_text(path: str) -> str:
    found = finders.find(path)
    if not found:
        raise FileNotFoundError(path)
    with open(found, encoding="utf-8") as handle:
        return handle.read()


# Tagged PDF (PDF/UA-1: structure tree, /MarkInfo, /Lang from `<html lang>`, title shown): screen readers
# read the documents in order, with their headings and tables; every template declares `<html lang="fr">`.
PDF_VARIANT = "pdf/ua-1"
STYLESHEET = "css/pdf.css"

_thread = threading.local()


@functools.cache
def document_stylesheet() -> CSS:
    """Our documents' stylesheet, parsed once per process: parsing it cost as much as laying out a page."""
    return CSS(string=static_text(STYLESHEET))


def font_configuration() -> FontConfiguration:
    """One per thread, kept between documents: a new one starts with cold font and text-shaping caches.

    Not shared between threads (Pango font maps are not thread-safe); our stylesheet has no @font-face,
    so nothing a document declares stays in it for the next one.
    """
    if not hasattr(_thread, "fonts"):
        _thread.fonts = FontConfiguration()
    return _thread.fonts


_rendering = 0  # documents being rendered in this process, all threads
_collector_was_enabled = True
_rendering_lock = threading.Lock()


@contextmanager
def cycle_collector_paused():
    """Python's cycle collector stays off while documents render, and resumes when the last one ends.

    A layout allocates some hundred thousand short-lived objects: the collector would otherwise sweep them
    (and, in its full passes, the whole process's heap) dozens of times per document, a third of a
    report's render time. Counted across threads, so one render ending does not re-enable it under another.
    """
    global _rendering, _collector_was_enabled
    with _rendering_lock:
        _rendering += 1
        if _rendering == 1:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
    try:
        yield
    finally:
        with _rendering_lock:
            _rendering -= 1
            if _rendering == 0 and _collector_was_enabled:
                gc.enable()


def html_to_pdf(html: str) -> bytes:
    """The PDF of `html` laid out with our documents' stylesheet."""
    with cycle_collector_paused():
        return HTML(string=html, url_fetcher=OfflineURLFetcher(), base_url=None).write_pdf(
            stylesheets=[document_stylesheet()], font_config=font_configuration(), pdf_variant=PDF_VARIANT
        )


def render_pdf(template: str, context: dict) -> bytes:
    return html_to_pdf(render_to_string(template, context))
