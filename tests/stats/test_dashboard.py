"""The dashboard page: figures drawn as accessible inline SVG, each with its table, under the strict CSP."""

import datetime
import re
from html import unescape
from pathlib import Path

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from stats.selectors import SUMMARY_SECONDS, last_complete_quarter
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
    assert "Recensement" in text and 'name="format" value="xlsx"' in html


def test_dashboard_of_a_prosecutor_has_no_jurisdiction_choice(api, users, figures):
    html = api(users["prosecutor_nanterre"]).get(reverse("stats-dashboard")).content.decode()
    assert "TJ de Nanterre" in html and 'name="jurisdiction"' not in html
    assert 'name="from"' in html and 'name="to"' in html


def test_dashboard_has_a_table_of_contents_whose_links_reach_each_section(api, users, figures):
    html = api(users["supervisor"]).get(reverse("stats-dashboard")).content.decode()
    toc = html.split('<nav class="toc panel"')[1].split("</nav>")[0]
    anchors = re.findall(r'href="#([a-z]+)"', toc)
    assert len(anchors) >= 9 and "recensement" in anchors and "evaluations" in anchors
    for anchor in anchors:
        assert html.count(f'id="{anchor}"') == 1, anchor


def test_danger_levels_are_written_and_coloured_by_severity(api, users, figures):
    html = api(users["supervisor"]).get(reverse("stats-dashboard")).content.decode()
    table = html.split('id="caption-niveaux"')[1].split("</table>")[0]
    for code, label in (("severe", "Danger grave"), ("high", "Danger élevé"), ("watch", "Danger à surveiller")):
        assert f'<span class="level level--{code}">{label}</span>' in unescape(table)  # the text, not colour alone


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def test_the_level_colours_have_a_contrast_of_at_least_4_5():
    css = (Path(__file__).resolve().parents[2] / "static/css/vigie.css").read_text()
    variables = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-fA-F]{6})", css))
    for code in ("severe", "high", "watch"):
        rule = re.search(r"\.level--" + code + r"\s*\{([^}]*)\}", css)[1]
        colours = {
            prop: variables.get(value, value)
            for prop, value in re.findall(r"(?<![-\w])(background|color):\s*(?:var\(--)?([#\w-]+)\)?", rule)
        }
        light, dark = sorted((_luminance(colours["background"]), _luminance(colours["color"])), reverse=True)
        assert (light + 0.05) / (dark + 0.05) >= 4.5, code


def test_the_census_quarter_is_chosen_from_the_last_eight_quarters_kept_in_the_url(api, users, figures):
    client = api(users["supervisor"])
    html = client.get(reverse("stats-dashboard")).content.decode()
    select = html.split('<select id="recensement-trimestre" name="quarter">')[1].split("</select>")[0]
    values = re.findall(r'<option value="(\d{4}T[1-4])"', select)
    year, quarter = last_complete_quarter()
    assert len(values) == 8 and values[0] == f"{year}T{quarter}"
    assert f'<option value="{values[0]}" selected>' in select
    html = client.get(reverse("stats-dashboard"), {"quarter": values[5]}).content.decode()
    assert f'<option value="{values[5]}" selected>' in html
    html = client.get(reverse("stats-dashboard"), {"quarter": "1999T1"}).content.decode()
    assert f'<option value="{values[0]}" selected>' in html  # not offered: the default
    census = client.get(reverse("stats-census"), {"quarter": values[5], "format": "csv"})
    assert census.status_code == 200
    page = client.get(reverse("stats-census")).content.decode()
    assert '<select name="quarter"' in page and "trimestre" in page


def test_the_dashboard_keeps_its_figures_five_minutes_and_says_since_when(api, users, make_referral):
    client = api(users["supervisor"])
    make_referral("submitted")
    first = client.get(reverse("stats-dashboard"))
    computed_at = timezone.localtime(first.context["computed_at"])
    assert f"Chiffres calculés à {computed_at:%H:%M}" in first.content.decode()
    make_referral("submitted")
    kept = client.get(reverse("stats-dashboard")).context["summary"]
    assert kept.referrals_total == first.context["summary"].referrals_total
    with time_machine.travel(timezone.now() + datetime.timedelta(seconds=SUMMARY_SECONDS + 1)):
        fresh = client.get(reverse("stats-dashboard")).context["summary"]
    assert fresh.referrals_total == kept.referrals_total + 1
