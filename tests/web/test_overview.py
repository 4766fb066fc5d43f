"""The overview: key figures, trends, watermelons, priorities and XLAs, inside the reader's scope."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from itxm.analytics import xla
from itxm.org.models import Role
from itxm.org.scopes import EVERYTHING
from itxm.org.services import create_user
from tests.analytics.conftest import people  # noqa: F401 (fixture)
from tests.analytics.test_facts import answered  # noqa: F401 (fixture)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def page(client, url: str = "/") -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def kpi(html: str, title: str) -> str:
    """The figure under a key figure's title, without its small print."""
    found = re.search(rf"<dt>{re.escape(title)}</dt><dd[^>]*>(.*?)<small>", html, re.DOTALL)
    assert found, title
    return found.group(1).strip()


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def table_names(html: str, table: str) -> list[str]:
    section = html.split(f'id="table-{table}"', 1)[1].split("</section>", 1)[0]
    return re.findall(r'<tr><td class="text"><a href="[^"]+">([^<]+)</a>', section)


@pytest.mark.parametrize("role", ["admin", "analyst", "viewer", "alpha", "zeta", "owner"])
def test_the_overview_renders_for_every_role(answered, users, client_for, role):  # noqa: F811
    html = page(client_for(users[role]))
    assert "<h1>Overview</h1>" in html and 'data-chart="trend_experience"' in html


def test_key_figures_of_the_whole_organisation(answered, users, client_for):  # noqa: F811
    html = page(client_for(users["analyst"]))
    # Six answers (tests/analytics/test_facts.py): 10 and 9 against 3, 2 and 4: (2 - 3) / 6.
    assert kpi(html, "Happiness") == "-16.7"
    assert kpi(html, "Answers") == "6"
    # Lost minutes 0 + 10 + 150 + 360 + 720 = 1,240.
    assert kpi(html, "Work time lost") == "20.7 h"
    assert kpi(html, "Tickets") == "6"
    assert kpi(html, "SLA compliance") == "80.0 %"  # true, true, false, true, true; one unknown
    assert "XLAs met" in html and "no XLA defined yet" in html
    for chart in ("trend_experience", "trend_lost", "complaints"):
        assert f'data-chart="{chart}"' in html and f'id="{chart}"' in html


def test_watermelons_and_priorities_link_to_the_services(answered, users, client_for, org):  # noqa: F811
    html = page(client_for(users["analyst"]))
    # ERP: every SLA met, happiness -100 — a watermelon; E-mail's SLA is 66.7 %.
    assert table_names(html, "watermelons") == ["ERP"]
    assert table_names(html, "priorities") == ["ERP", "E-mail"]
    assert f'href="/explore/service/{org["erp"].pk}/"' in html
    assert kpi(html, "Watermelons") == "1"
    response = client_for(users["analyst"]).get(f"/explore/service/{org['erp'].pk}/")
    assert response.status_code == 200


def test_the_tables_download(answered, users, client_for):  # noqa: F811
    client = client_for(users["analyst"])
    rows = csv_rows(client.get("/?export=csv&table=priorities"))
    assert rows[0] == ["Service", "Impact", "Happiness", "Answers", "Lost hours", "Most named problem"]
    assert [(row[0], row[1], row[5]) for row in rows[1:]] == [("ERP", "-3.0", "Took too long"),
                                                              ("E-mail", "-1.0", "Took too long")]  # fmt: skip
    melons = client.get("/?export=xlsx&table=watermelons")
    sheet = load_workbook(io.BytesIO(melons.content)).active
    assert [row[:4] for row in sheet.iter_rows(min_row=2, values_only=True)] == [("ERP", 100.0, None, -100.0)]
    assert client.get("/?export=csv&table=nothing").status_code == 404


def test_filters_change_every_figure(answered, users, client_for, org):  # noqa: F811
    client = client_for(users["analyst"])
    mail = page(client, f"/?service={org['email'].pk}")
    assert kpi(mail, "Happiness") == "+25.0" and kpi(mail, "Answers") == "4"
    assert table_names(mail, "priorities") == ["E-mail"] and table_names(mail, "watermelons") == []
    zeta = page(client, f"/?group={org['zeta_group'].pk}")
    assert kpi(zeta, "Happiness") == "-100.0" and table_names(zeta, "priorities") == ["ERP"]
    empty = page(client, "/?period=custom&start=2020-01-01&end=2020-03-31")
    assert "No data yet" in empty and "Look at the last 12 months" in empty


def test_too_few_answers_get_no_verdict(answered, users, client_for, settings):  # noqa: F811
    settings.ANALYTICS_MIN_ANSWERS = 30
    html = page(client_for(users["analyst"]))
    assert kpi(html, "Happiness") == "–" and "too few answers to judge (6)" in html
    assert table_names(html, "watermelons") == [] and 'class="neutral"' in html
    assert table_names(html, "priorities") == []  # nothing to rank without enough answers
    assert "Nothing to fix first: no service has enough answers in this period." in html


def test_empty_state_on_a_fresh_installation(db, client_for):
    reader = create_user("fresh", PASSWORD, Role.ANALYST)
    html = page(client_for(reader))
    assert "No data yet" in html and "itxm demo" in html and "data-chart" not in html


def test_a_supplier_sees_its_own_figures_only(answered, users, client_for):  # noqa: F811
    client = client_for(users["alpha"])
    html = page(client)
    assert "You see the data of Alpha Outsourcing" in html
    assert kpi(html, "Happiness") == "+25.0" and kpi(html, "Answers") == "4"
    assert table_names(html, "priorities") == ["E-mail"]
    groups = html.split('id="f-group"')[1].split("</select>")[0]
    assert re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', groups) == ["Alpha Desk"]
    assert "zeta" not in html.lower()
    assert "ERP" not in html.split('id="table-watermelons"', 1)[1]  # (services themselves are no secret)
    for table in ("watermelons", "priorities", "xlas"):
        for fmt in ("csv", "xlsx"):
            response = client.get(f"/?export={fmt}&table={table}")
            if response.status_code == 200:
                assert b"ERP" not in response.content and b"zeta" not in response.content.lower()


def test_a_supplier_cannot_filter_its_way_into_another_suppliers_group(answered, users, client_for, org):  # noqa: F811
    html = page(client_for(users["alpha"]), f"/?group={org['zeta_group'].pk}")
    assert "No data yet" in html and "zeta" not in html.lower()


def test_xla_statuses_this_period(answered, users, client_for, org):  # noqa: F811
    spec = xla.XlaSpec(
        name="E-mail experience", dimension="service", member=str(org["email"].pk),
        indicators=(xla.IndicatorSpec(metric="happiness", target=20),),
    )  # fmt: skip
    xla.create_xla(EVERYTHING, spec)
    html = page(client_for(users["analyst"]))
    section = html.split('id="table-xlas"', 1)[1].split("</section>", 1)[0]
    assert "E-mail experience" in section and "status good" in section and ">met<" in section
    assert kpi(html, "XLAs met") == "1 of 1"
    # The XLA is about Alpha's service only: Zeta's supplier user does not see it.
    assert "E-mail experience" not in page(client_for(users["zeta"]))
