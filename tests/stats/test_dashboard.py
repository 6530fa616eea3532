"""The dashboard page: figures drawn as accessible inline SVG, each with its table, under the strict CSP."""

import re
from html import unescape

import pytest
from django.urls import reverse

from tests.web.helpers import assert_csp_safe

pytestmark = pytest.mark.django_db


def test_dashboard_renders_charts_and_tables_for_the_supervisor(api, users, figures):
    response = api(users["supervisor"]).get(reverse("stats-dashboard"))
    assert response.status_code == 200
    html = response.content.decode()
    assert_csp_safe(html)
    assert "<svg" in html and "<table" in html and "<script" not in html.split("<main")[1]
    charts = re.findall(r"<svg[^>]*>", html)
    assert len(charts) >= 6
    assert all('role="img"' in chart and "aria-labelledby=" in chart for chart in charts)
    text = unescape(html)
    assert "Danger grave : 3" in text  # the chart's description reads its numbers out
    assert 'name="jurisdiction"' in html  # the supervisor chooses the jurisdiction
    assert "Recensement" in text and "format=xlsx" in html


def test_dashboard_of_a_prosecutor_has_no_jurisdiction_choice(api, users, figures):
    html = api(users["prosecutor_nanterre"]).get(reverse("stats-dashboard")).content.decode()
    assert "TJ de Nanterre" in html and 'name="jurisdiction"' not in html
    assert 'name="from"' in html and 'name="to"' in html
