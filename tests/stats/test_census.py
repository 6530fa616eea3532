"""The quarterly census: counts per jurisdiction, readable back as CSV and XLSX, without any personal data."""

import csv
import io

import openpyxl
import pytest
from django.urls import reverse

from parquet.models import Device
from referrals.models import Referral
from tests.clock import current_quarter

pytestmark = pytest.mark.django_db

CENSUS = "/api/v1/stats/census/"


def census_csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))


def census_xlsx(response) -> list[list]:
    assert response.status_code == 200, response.content
    workbook = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True)
    return [list(row) for row in workbook.active.iter_rows(values_only=True)]


def test_census_csv_counts_per_jurisdiction(api, users, figures):
    quarter = current_quarter()
    response = api(users["supervisor"]).get(CENSUS, {"quarter": quarter, "format": "csv"})
    rows = census_csv(response)
    year, number = quarter.split("Q")
    assert response["Content-Disposition"] == (
        f'attachment; filename="recensement-TGD-{year}T{number}-toutes-les-juridictions.csv"'
    )
    assert rows[0][0].startswith(f"Indicateur ({year}T{number} : du ")
    assert rows[0][1:] == ["TJ de Nanterre", "TJ de Paris"]
    table = {row[0]: row[1:] for row in rows[1:]}
    assert table["Signalements reçus"] == ["6", "1"]
    assert table["Évaluations transmises au parquet"] == ["4", "0"]
    assert table["Évaluations transmises : niveau « Danger grave »"] == ["3", "0"]
    assert table["Évaluations transmises : niveau « Danger à surveiller »"] == ["1", "0"]
    assert table["Décisions : Attribution du téléphone"] == ["2", "0"]
    assert table["Décisions : Refus"] == ["1", "0"]
    assert table["Remises de téléphone"] == ["2", "0"]
    assert table["Renouvellements"] == ["0", "0"]
    assert table["Retraits : Déménagement"] == ["1", "0"]
    assert table["Alertes réelles"] == ["1", "0"]
    assert table["Interventions des forces de l'ordre"] == ["1", "0"]
    assert table["Interpellations"] == ["1", "0"]
    assert table["Téléphones actifs en fin de trimestre"] == ["1", "0"]
    # 92 Sud: 3 phones, 2 handed over (the withdrawn one is awaited back); 92 Nord: 1
    assert table["Téléphones en stock en fin de trimestre"] == ["2", "0"]


def test_census_xlsx_holds_the_same_table(api, users, figures):
    client = api(users["supervisor"])
    as_csv = census_csv(client.get(CENSUS, {"quarter": current_quarter()}))
    as_xlsx = census_xlsx(client.get(CENSUS, {"quarter": current_quarter(), "format": "xlsx"}))
    assert [[str(cell) for cell in row] for row in as_xlsx] == as_csv


def test_census_is_scoped_like_the_figures(api, users, figures):
    nord = {row[0]: row[1:] for row in census_csv(api(users["coord_nord"]).get(CENSUS, {"quarter": current_quarter()}))}
    assert nord[next(iter(nord))] == ["TJ de Nanterre — CIDFF 92 Nord"]
    assert nord["Signalements reçus"] == ["1"] and nord["Remises de téléphone"] == ["0"]
    paris = census_csv(api(users["prosecutor_paris"]).get(CENSUS, {"quarter": current_quarter()}))
    assert paris[0][1:] == ["TJ de Paris"] and paris[1] == ["Signalements reçus", "1"]
    other = users["prosecutor_nanterre"].organisation.jurisdiction_id
    assert api(users["prosecutor_paris"]).get(CENSUS, {"jurisdiction": other}).status_code == 404


def test_census_contains_no_personal_data(api, users, figures):
    client = api(users["supervisor"])
    files = [
        client.get(CENSUS, {"quarter": current_quarter()}),
        client.get(CENSUS, {"quarter": current_quarter(), "format": "xlsx"}),
    ]
    text = "\n".join(";".join(row) for row in census_csv(files[0]))
    text += "\n".join(";".join(str(cell) for cell in row) for row in census_xlsx(files[1]))
    text += "".join(response["Content-Disposition"] for response in files)
    secrets = set()
    for referral in Referral.objects.all():
        secrets |= {referral.victim["last_name"], referral.victim["first_name"], referral.victim["phone"]}
        secrets |= {referral.author["last_name"], referral.author["first_name"], referral.reference}
    for device in Device.objects.all():
        secrets |= {device.phone_number, device.serial}
    for user in users.values():
        secrets |= {user.email, user.last_name}
    assert len(secrets) > 20
    assert not [secret for secret in secrets if secret and secret in text]


def test_census_page_downloads_the_same_file(api, users, figures):
    client = api(users["coord_sud"])
    page = client.get(reverse("stats-census"))
    assert page.status_code == 200 and 'name="quarter"' in page.content.decode()
    response = client.get(reverse("stats-census"), {"quarter": current_quarter(), "format": "csv"})
    assert census_csv(response) == census_csv(client.get(CENSUS, {"quarter": current_quarter()}))
    assert "cidff-92-sud" in response["Content-Disposition"]
