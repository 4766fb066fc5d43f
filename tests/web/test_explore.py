"""Explore: every metric per member of a dimension, each member's page and its break-down, inside the
reader's scope (a supplier never sees another supplier's groups, agents or suppliers)."""

import csv
import io
import re

import pytest
from openpyxl import load_workbook

from itxm.org.models import Role
from itxm.org.services import create_user
from itxm.web.views import explore
from tests.analytics.conftest import people  # noqa: F401 (fixture)
from tests.analytics.test_facts import answered  # noqa: F401 (fixture)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
ROLES = ("admin", "analyst", "viewer", "alpha", "owner")


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(response) -> list[tuple]:
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    return list(sheet.iter_rows(values_only=True))


def members_shown(html: str) -> list[str]:
    """The member names in the members table, in order."""
    table = html.split('id="table-members"', 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr><td class="text"><a href="[^"]+">([^<]+)</a>', table)


@pytest.mark.parametrize("role", ROLES)
def test_explore_renders_for_every_role(answered, users, client_for, role):  # noqa: F811
    html = page(client_for(users[role]), "/explore/")
    assert "E-mail" in members_shown(html)
    assert 'id="f-dimension"' in html and '<label for="f-dimension">Explore by</label>' in html


def test_every_dimension_renders(answered, users, client_for):  # noqa: F811
    client = client_for(users["analyst"])
    for dimension in explore.DIMENSIONS:
        html = page(client, f"/explore/?dimension={dimension}")
        # These tickets have no category: tickets without a member are in no member's row.
        assert bool(members_shown(html)) == (dimension != "category"), dimension


def test_members_table_holds_each_services_metrics(answered, users, client_for):  # noqa: F811
    html = page(client_for(users["analyst"]), "/explore/?dimension=service")
    assert members_shown(html) == ["E-mail", "ERP"]  # busiest first: four tickets, then two
    rows = csv_rows(client_for(users["analyst"]).get("/explore/?dimension=service&export=csv&table=members"))
    header, mail, erp = rows[0], dict(zip(rows[0], rows[1], strict=True)), dict(zip(rows[0], rows[2], strict=True))
    assert header[:3] == ["Service", "Code", "Happiness"]
    # Mail (tests/analytics/test_facts.py): happiness +25 from 4 answers, SLA 66.7 %, reopened 25 %.
    assert mail["Service"] == "E-mail" and mail["Code"] == "SVC-MAIL"
    assert float(mail["Happiness"]) == 25.0 and mail["Answers"] == "4"
    assert float(mail["SLA met % (source)"]) == 66.7 and float(mail["Reopened %"]) == 25.0
    assert float(mail["Resolution, median"]) == 5.0 and float(mail["Resolution, 90th percentile"]) == 7.4
    assert erp["Service"] == "ERP" and float(erp["Happiness"]) == -100.0 and float(erp["Lost hours"]) == 18.0
    assert "+25" in html and "Lost hours" in html
    assert 'data-chart="lost_by_member"' in html and 'data-chart="happiness_lost"' in html


def test_too_few_answers_leave_happiness_out(answered, users, client_for, settings):  # noqa: F811
    settings.ANALYTICS_MIN_ANSWERS = 30
    client = client_for(users["analyst"])
    html = page(client, "/explore/?dimension=service")
    assert "too few answers (4)" in html and "too few answers (2)" in html
    assert 'data-chart="happiness_lost"' not in html  # no dot without a verdict
    rows = csv_rows(client.get("/explore/?export=csv&table=members"))
    assert [row[2] for row in rows[1:]] == ["", ""]


def test_xlsx_export_of_the_members(answered, users, client_for):  # noqa: F811
    rows = xlsx_rows(client_for(users["analyst"]).get("/explore/?dimension=group&export=xlsx&table=members"))
    assert rows[0][:2] == ("Group", "Code")
    assert {(row[0], row[1]) for row in rows[1:]} == {("Alpha Desk", "GRP-ALPHA"), ("Zeta Desk", "GRP-ZETA")}
    happiness = {row[0]: row[2] for row in rows[1:]}
    assert happiness == {"Alpha Desk": 25.0, "Zeta Desk": -100.0}  # numbers stay numbers


def test_filters_and_dimension_change_the_table(answered, users, client_for, org):  # noqa: F811
    client = client_for(users["analyst"])
    assert members_shown(page(client, "/explore/?dimension=group")) == ["Alpha Desk", "Zeta Desk"]
    narrowed = page(client, f"/explore/?dimension=group&service={org['erp'].pk}")
    assert members_shown(narrowed) == ["Zeta Desk"]
    assert members_shown(page(client, "/explore/?dimension=channel")) == ["Phone", "Self-service portal"]
    empty = page(client, "/explore/?period=custom&start=2020-01-01&end=2020-01-31")
    assert members_shown(empty) == [] and "Nothing was recorded for these filters in this period" in empty


def test_an_unknown_dimension_says_so_and_shows_services(answered, users, client_for):  # noqa: F811
    html = page(client_for(users["analyst"]), "/explore/?dimension=salary")
    assert "There is no such dimension to explore; showing services." in html
    assert members_shown(html) == ["E-mail", "ERP"]


def test_pages_of_members(answered, users, client_for, monkeypatch):  # noqa: F811
    monkeypatch.setattr(explore, "PAGE_SIZE", 1)
    client = client_for(users["analyst"])
    first = page(client, "/explore/?dimension=service")
    assert members_shown(first) == ["E-mail"] and "Page 1 of 2 (2 in all)" in first
    assert 'href="?dimension=service&amp;page=2"' in first
    assert members_shown(page(client, "/explore/?dimension=service&page=2")) == ["ERP"]
    assert members_shown(page(client, "/explore/?dimension=service&page=99")) == ["ERP"]  # the last one
    assert members_shown(page(client, "/explore/?dimension=service&page=x")) == ["E-mail"]
    # A download holds every member, not only the page.
    rows = csv_rows(client.get("/explore/?dimension=service&page=2&export=csv&table=members"))
    assert [row[0] for row in rows[1:]] == ["E-mail", "ERP"]


def test_empty_state_on_a_fresh_installation(db, client_for):
    reader = create_user("fresh", PASSWORD, Role.ANALYST)
    html = page(client_for(reader), "/explore/")
    assert "Nothing was recorded for these filters in this period" in html and "Download" not in html
    assert page(client_for(reader), "/explore/?dimension=agent")


def test_agents_are_named_only_to_readers_who_may_see_people(answered, users, client_for):  # noqa: F811
    html = page(client_for(users["analyst"]), "/explore/?dimension=agent")
    assert "Alan Alpha" in members_shown(html) and '<th scope="col" class="text">Code</th>' in html
    for role in ("viewer", "alpha"):
        html = page(client_for(users[role]), "/explore/?dimension=agent")
        assert "AG-ALPHA" in members_shown(html) and "Alan Alpha" not in html
        assert '<th scope="col" class="text">Code</th>' not in html  # the code is the name shown


# --- a supplier sees its own data only ------------------------------------------------------------


@pytest.mark.parametrize("dimension", ["group", "agent", "supplier", "service", "channel", "country"])
def test_a_supplier_never_sees_another_suppliers_rows(answered, users, client_for, dimension):  # noqa: F811
    client = client_for(users["alpha"])
    html = page(client, f"/explore/?dimension={dimension}")
    assert members_shown(html)
    assert not re.search("zeta", html, re.IGNORECASE)
    for fmt in ("csv", "xlsx"):
        response = client.get(f"/explore/?dimension={dimension}&export={fmt}&table=members")
        assert response.status_code == 200
        text = response.content.decode("utf-8-sig") if fmt == "csv" else str(xlsx_rows(response))
        assert "zeta" not in text.lower() and "ERP" not in text


def test_a_supplier_cannot_filter_its_way_into_another_suppliers_group(answered, users, client_for, org):  # noqa: F811
    client = client_for(users["alpha"])
    for dimension in ("service", "agent"):
        html = page(client, f"/explore/?dimension={dimension}&group={org['zeta_group'].pk}")
        assert members_shown(html) == [] and "zeta" not in html.lower()


def test_a_supplier_sees_its_own_group_agent_and_supplier(answered, users, client_for):  # noqa: F811
    client = client_for(users["alpha"])
    assert members_shown(page(client, "/explore/?dimension=group")) == ["Alpha Desk"]
    assert members_shown(page(client, "/explore/?dimension=supplier")) == ["Alpha Outsourcing"]
    rows = csv_rows(client.get("/explore/?dimension=group&export=csv&table=members"))
    assert [row[0] for row in rows[1:]] == ["Alpha Desk"] and rows[1][2] == "25.0"
    assert rows[1][3] == "\u221247.3 to +69.2"  # the 95 % interval of +25 from four answers


# --- one member -----------------------------------------------------------------------------------


def test_a_member_page_shows_its_figures_trend_and_factors(answered, users, client_for, org):  # noqa: F811
    client = client_for(users["analyst"])
    html = page(client, f"/explore/service/{org['email'].pk}/")
    assert "<h1>" in html and "E-mail" in html and "SVC-MAIL" in html
    assert "+25.0" in html and "66.7 %" in html  # happiness and SLA compliance
    assert "Delivered quickly" in html and "Took too long" in html  # praise and complaints
    for chart in ("member_experience", "member_lost", "member_tickets", "member_complaints"):
        assert f'data-chart="{chart}"' in html
    rows = csv_rows(client.get(f"/explore/service/{org['email'].pk}/?export=csv&table=complaints"))
    assert rows == [["Factor", "Answers", "Share of answers %"], ["Took too long", "1", "25.0"]]
    praise = csv_rows(client.get(f"/explore/service/{org['email'].pk}/?export=csv&table=praise"))
    shares = {row[0]: row[2] for row in praise[1:]}
    assert shares == {"Delivered quickly": "50.0", "Friendly and helpful people": "25.0"}


def test_a_member_breaks_down_by_the_next_dimension(answered, users, client_for, org):  # noqa: F811
    client = client_for(users["analyst"])
    erp = org["erp"].pk
    html = page(client, f"/explore/service/{erp}/?period=30d")
    link = re.search(r'<a href="(/explore/\?[^"]*dimension=group[^"]*)">Groups</a>', html).group(1)
    link = link.replace("&amp;", "&")
    assert f"service={erp}" in link and "period=30d" in link
    groups = page(client, link)
    assert members_shown(groups) == ["Zeta Desk"]
    group_page = page(client, re.search(r'<td class="text"><a href="([^"]+)">Zeta Desk</a>', groups).group(1))
    assert "Break Zeta Desk down by" in group_page
    agents = re.search(r'<a href="(/explore/\?[^"]*dimension=agent[^"]*)">Agents</a>', group_page).group(1)
    assert members_shown(page(client, agents.replace("&amp;", "&"))) == ["Zed Zeta"]


def test_a_member_without_data_in_the_period_says_so(answered, users, client_for, org):  # noqa: F811
    html = page(client_for(users["analyst"]), f"/explore/group/{org['inhouse'].pk}/")
    assert "Network Team" in html and "Nothing recorded" in html


@pytest.mark.parametrize(
    "path",
    ["/explore/salary/1/", "/explore/group/999999/", "/explore/group/abc/", "/explore/channel/telepathy/",
     "/explore/priority/high/", "/explore/country/Turkey/", "/explore/kind/other/"],
)  # fmt: skip
def test_an_unknown_member_is_a_clear_404(answered, users, client_for, path):  # noqa: F811
    response = client_for(users["analyst"]).get(path)
    assert response.status_code == 404
    message = "This dimension or member does not exist, or it is outside the data you may see."
    assert message in response.content.decode()


@pytest.mark.parametrize("member", ["zeta_group", "zeta_agent", "zeta"])
def test_another_suppliers_member_is_a_404(answered, users, client_for, org, member):  # noqa: F811
    dimension = {"zeta_group": "group", "zeta_agent": "agent", "zeta": "supplier"}[member]
    url = f"/explore/{dimension}/{org[member].pk}/"
    response = client_for(users["alpha"]).get(url)
    assert response.status_code == 404 and "zeta" not in response.content.decode().lower()
    assert client_for(users["alpha"]).get(f"{url}?export=csv&table=complaints").status_code == 404
    assert client_for(users["analyst"]).get(url).status_code == 200


def test_a_supplier_sees_only_its_slice_of_a_shared_service(answered, users, client_for, org):  # noqa: F811
    client = client_for(users["alpha"])
    mail = page(client, f"/explore/service/{org['email'].pk}/")
    assert "+25.0" in mail and "zeta" not in mail.lower()
    erp = page(client, f"/explore/service/{org['erp'].pk}/")  # only Zeta worked on it: nothing for Alpha
    assert "Nothing recorded" in erp and "zeta" not in erp.lower()


def test_a_service_owner_cannot_open_another_service(answered, users, client_for, org):  # noqa: F811
    client = client_for(users["owner"])
    assert client.get(f"/explore/service/{org['email'].pk}/").status_code == 200
    assert client.get(f"/explore/service/{org['erp'].pk}/").status_code == 404
