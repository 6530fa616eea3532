"""PDF rendering with WeasyPrint, offline: the only resources a document may load are ours.

The stylesheet is inlined from our static files and the URL fetcher refuses everything but
`data:` URIs, so content that slipped into a document can never make the server fetch a URL
(SSRF guard: no http, no file://, no redirects).
"""

import logging

from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from weasyprint import HTML
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


def html_to_pdf(html: str) -> bytes:
    return HTML(string=html, url_fetcher=OfflineURLFetcher(), base_url=None).write_pdf(pdf_variant=PDF_VARIANT)


def render_pdf(template: str, context: dict, *, stylesheet: str = "css/pdf.css") -> bytes:
    return html_to_pdf(render_to_string(template, {**context, "stylesheet": static_text(stylesheet)}))
