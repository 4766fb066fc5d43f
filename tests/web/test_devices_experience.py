"""The "Devices and experience" page: answers beside device health, by band, model, OS build and person
(data: ``tests/devices/experience_data.py``)."""

import csv
import io

import pytest
from openpyxl import load_workbook

from itxm.devices import services
from tests.devices import experience_data

PAGE = "/devices/experience/?period=custom&start=2026-03-01&end=2026-03-14"


@pytest.fixture(autouse=True)
def fresh_results():
    services.forget_page_results()
    yield
    services.forget_page_results()


@pytest.fixture
def joined(org, settings):
    settings.ANALYTICS_MIN_ANSWERS = 2
    return experience_data.build(org)


def page(client, path: str = PAGE) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.content.decode()


def csv_rows(client, table: str) -> list[list[str]]:
    response = client.get(f"{PAGE}&export=csv&table={table}")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("role", ["admin", "analyst"])
def test_readers_of_people_see_names_worst_first_and_the_band_chart(joined, users, client_for, role):
    text = page(client_for(users[role]))
    assert 'data-chart="band_happiness"' in text and 'data-chart="model_lost"' in text
    assert text.index("Ayşe Yılmaz (E1)") < text.index("Dora Devices (E4)") < text.index("Zoe Zeta-Answer (E2)")
    assert "Poor (under 50)" in text and "Latitude 5440" in text and "22631.3296" in text
    assert "Technology only" in text and "Sentiment only" in text
    # One answer in the good band: shown, without a verdict.
    assert "too few answers to judge" in text


def test_a_viewer_sees_people_by_number_only(joined, users, client_for):
    client = client_for(users["viewer"])
    text = page(client)
    assert f"Person #{joined['ayse'].pk}" in text
    for name in ("Ayşe", "Zoe", "Dora", "Cem", "E1)"):
        assert name not in text
    rows = csv_rows(client, "people")
    assert rows[1][0] == f"Person #{joined['ayse'].pk}" and not any("Ayşe" in cell for row in rows for cell in row)


@pytest.mark.parametrize("role", ["alpha", "zeta", "owner"])
def test_suppliers_and_service_owners_see_no_one(joined, users, client_for, role):
    client = client_for(users[role])
    text = page(client)
    assert "not to suppliers or service owners" in text
    for marker in ("Ayşe", "Zoe", "Zeta-Answer", "Person #", "Latitude"):
        assert marker not in text
    assert len(csv_rows(client, "people")) == 1 and len(csv_rows(client, "models")) == 1


def test_the_tables_download_with_every_row(joined, users, client_for):
    client = client_for(users["analyst"])
    people = csv_rows(client, "people")
    assert [row[0] for row in people[1:]] == ["Ayşe Yılmaz (E1)", "Dora Devices (E4)", "Cem Kaya (E3)",
                                              "Zoe Zeta-Answer (E2)"]  # fmt: skip
    assert people[1][1] == "40.0"
    bands = csv_rows(client, "bands")
    assert [row[0] for row in bands[1:]] == ["Good (80 and above)", "Fair (50 to under 80)", "Poor (under 50)"]
    response = client.get(f"{PAGE}&export=xlsx&table=models")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in rows[1:]] == ["Latitude 5440", "ThinkPad T14"] and rows[1][1] == 2


def test_an_empty_database_says_why_and_what_to_do(users, client_for):
    text = page(client_for(users["analyst"]))
    assert "Nothing to join yet" in text and "itxm demo" in text


def test_the_device_pages_link_to_it(users, client_for):
    assert 'href="/devices/experience/"' in page(client_for(users["viewer"]), "/devices/")
