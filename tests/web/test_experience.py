"""The watermelon board and the priorities page: roles, empty state, every choice, exports, bad input and
supplier isolation, over tickets sent through ingestion and answered through the survey services."""

import csv
import io
import json
import re
from datetime import date, datetime, timedelta

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from itxm.analytics import services as analytics
from itxm.org.models import Employee, Group, Role, Service
from itxm.org.scopes import EVERYTHING
from itxm.org.services import create_user
from itxm.surveys import services as surveys
from itxm.surveys.models import FatigueRule, Invitation
from itxm.surveys.tokens import answer_token
from tests.analytics.conftest import TODAY, ingest, ticket_row
from tests.conftest import PASSWORD

PAGES = ("/watermelons/", "/priorities/")
ROLES = ("admin", "analyst", "viewer", "alpha", "zeta", "owner")


@pytest.fixture
def answered(org, settings):
    """Three services, each with three answered tickets resolved three days ago (a verdict needs two):

    - E-mail, run by Alpha: every SLA met, happiness -33.3 (scores 3, 4, 9): a watermelon;
    - ERP, run by Zeta: every SLA met, happiness -100, the most time lost: the worst watermelon;
    - Wi-Fi, in-house (plus one ticket not answered): every SLA breached, happiness +100: the reverse.
    """
    settings.ANALYTICS_MIN_ANSWERS = 2
    FatigueRule.objects.update(enabled=False)
    Employee.objects.filter(pk=org["caller"].pk).update(country="TR", cost_per_hour=60)
    for i in range(2, 11):
        Employee.objects.create(external_id=f"E{i}", name=f"Caller {i}", email=f"caller{i}@example.com",
                                cost_per_hour=30, location=org["caller"].location, country="TR")  # fmt: skip
    Service.objects.create(external_id="SVC-WIFI", name="Wi-Fi")
    alpha = {"group": "GRP-ALPHA", "service": "SVC-MAIL", "assignee": "AG-ALPHA", "made_sla": "true"}
    zeta = {"group": "GRP-ZETA", "service": "SVC-ERP", "assignee": "AG-ZETA", "made_sla": "true"}
    inhouse = {"group": "GRP-NET", "service": "SVC-WIFI", "assignee": None, "made_sla": "false", "channel": "portal"}
    ingest([
        ticket_row("A1", "E1", **alpha), ticket_row("A2", "E2", **alpha), ticket_row("A3", "E3", **alpha),
        ticket_row("Z1", "E4", **zeta), ticket_row("Z2", "E5", **zeta), ticket_row("Z3", "E6", **zeta),
        ticket_row("N1", "E7", **inhouse), ticket_row("N2", "E8", **inhouse), ticket_row("N3", "E9", **inhouse),
        ticket_row("N4", "E10", **inhouse),
    ])  # fmt: skip
    for number, score, lost, factors in [
        ("A1", 3, 150, ["slow"]), ("A2", 4, 40, ["slow"]), ("A3", 9, 0, []),
        ("Z1", 0, 720, ["passed_around"]), ("Z2", 2, 360, ["passed_around", "slow"]), ("Z3", 5, 360, ["passed_around"]),
        ("N1", 10, 0, []), ("N2", 10, 10, []), ("N3", 9, 0, []),
    ]:  # fmt: skip
        # E-mail and ERP answered two days ago, Wi-Fi today: productivity since yesterday has a baseline.
        answered_at = timezone.now() - timedelta(days=0 if number.startswith("N") else 2)
        invitation = Invitation.objects.get(ticket__number=number)
        surveys.complete(answer_token(invitation.pk, invitation.nonce), score, lost, factors, "", now=answered_at)
    return org


def get(client, url: str, **params):
    response = client.get(url, params)
    assert response.status_code == 200, response.content[:500]
    return response


def labels(response, table: str) -> list[str]:
    return [row["label"] for row in response.context["tables"][table].rows]


def chart_option(response, chart_id: str) -> dict:
    text = response.content.decode()
    found = re.search(rf'<script id="{chart_id}" type="application/json">(.*?)</script>', text, re.S)
    assert found, f"no chart {chart_id}"
    return json.loads(found.group(1))


# --- who may see the pages ------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_every_role_sees_the_pages(answered, users, client_for, page):
    for role in ROLES:
        response = client_for(users[role]).get(page)
        assert response.status_code == 200, role
        assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("page", PAGES)
def test_signing_in_comes_first(answered, client, page):
    response = client.get(page)
    assert response.status_code == 302 and response["Location"].startswith("/login/")


@pytest.mark.django_db
@pytest.mark.parametrize("page", PAGES)
def test_a_fresh_installation_explains_why_the_pages_are_empty(client_for, page):
    admin = create_user("admin", PASSWORD, Role.ADMIN)
    response = get(client_for(admin), page)
    text = response.content.decode()
    assert all(not table.rows for table in response.context["tables"].values())
    assert response.context["charts"] == {}
    if page == "/watermelons/":
        assert "No watermelons: where the SLA is met, people are happy too" in text
    else:
        assert "Nothing to rank: no member of this dimension has tickets or answers" in text
        assert "No answers in this period to place on the grid." in text
        assert "No one reported lost work time in this period" in text
        assert "No lost time was reported in the 90 days before" in text
    assert 'class="exports"' not in text  # nothing to download


# --- the watermelon board -------------------------------------------------------------------------


def test_watermelons_are_ranked_by_cost_and_the_reverse_is_listed(answered, users, client_for):
    response = get(client_for(users["analyst"]), "/watermelons/")
    assert labels(response, "watermelons") == ["ERP", "E-mail"]
    assert labels(response, "reverse") == ["Wi-Fi"]
    erp = response.context["tables"]["watermelons"].rows[0]
    assert erp["sla"] == 100.0 and erp["happiness"] == -100.0 and erp["answers"] == 3
    assert erp["lost_hours"] == round((720 + 360 + 360) / 60, 1)
    computed = analytics.watermelons(EVERYTHING, "service", period(response))["watermelons"][0]
    assert erp["lost_cost"] == computed.lost_cost
    assert erp["factors"] == "Passed around several times (100 %), Took too long (33 %)"
    assert " to " in erp["interval"]
    assert erp["link"].startswith(f"/explore/service/{answered['erp'].pk}/")
    text = response.content.decode()
    assert "Watermelons: SLA met, people unhappy" in text and "the target may be wrong" in text
    option = chart_option(response, "melon_quadrant")
    melons, reverse = option["series"]
    assert [point["name"] for point in melons["data"]] == ["ERP", "E-mail"]
    assert melons["data"][0]["value"] == [100.0, -100.0]
    assert [point["name"] for point in reverse["data"]] == ["Wi-Fi"]
    assert {line.get("xAxis") for line in melons["markLine"]["data"]} >= {90.0}
    pairs = chart_option(response, "melon_pairs")
    assert pairs["yAxis"]["data"] == ["ERP", "E-mail"] and len(pairs["series"]) == 3


def period(response):
    return response.context["filters"].period


def test_the_dimension_changes_the_members(answered, users, client_for):
    client = client_for(users["analyst"])
    assert labels(get(client, "/watermelons/", dimension="group"), "watermelons") == ["Zeta Desk", "Alpha Desk"]
    assert labels(get(client, "/watermelons/", dimension="supplier"), "watermelons") == [
        "Zeta Outsourcing", "Alpha Outsourcing",
    ]  # fmt: skip
    assert labels(get(client, "/watermelons/", dimension="channel"), "reverse") == ["Self-service portal"]
    response = get(client, "/watermelons/", dimension="group")
    assert response.context["tables"]["watermelons"].columns[0].label == "Group"
    assert response.context["tables"]["watermelons"].rows[0]["link"].startswith("/explore/group/")


def test_the_targets_change_the_verdicts(answered, users, client_for):
    client = client_for(users["analyst"])
    # A happiness target of -50: E-mail (-33.3) is happy enough; ERP (-100) stays a watermelon.
    assert labels(get(client, "/watermelons/", happiness_target="-50"), "watermelons") == ["ERP"]
    # An SLA target of 0 % counts Wi-Fi's SLA as met: it is no longer the reverse.
    response = get(client, "/watermelons/", sla_target="0")
    assert labels(response, "reverse") == [] and labels(response, "watermelons") == ["ERP", "E-mail"]
    # A target between the usual steps is taken as given and shown selected.
    response = get(client, "/watermelons/", happiness_target="-35.5")
    assert labels(response, "watermelons") == ["ERP"]
    target = next(f for f in response.context["page_fields"] if f.name == "happiness_target")
    assert target.value == "-35.5" and ("-35.5", "-35.5") in target.choices
    assert "while people's happiness stays below -35.5" in response.content.decode()


def test_the_defaults_come_from_the_settings(answered, users, client_for, settings):
    settings.ANALYTICS_HAPPINESS_TARGET = -50
    response = get(client_for(users["analyst"]), "/watermelons/")
    assert labels(response, "watermelons") == ["ERP"]
    fields = {field.name: field.value for field in response.context["page_fields"]}
    assert fields == {"dimension": "service", "sla_target": "90", "happiness_target": "-50"}


# --- priorities -----------------------------------------------------------------------------------


def test_priorities_rank_by_impact_with_change_and_factors(answered, users, client_for):
    response = get(client_for(users["analyst"]), "/priorities/")
    rows = response.context["tables"]["priorities"].rows
    assert [row["label"] for row in rows] == ["ERP", "E-mail", "Wi-Fi"]
    erp = rows[0]
    # Impact against the target 50: 3 answers × (-100 - 50) / 100.
    assert erp["impact"] == -4.5 and erp["happiness"] == -100.0 and erp["answers"] == 3 and erp["volume"] == 3
    assert erp["factors"] == "Passed around several times (100 %), Took too long (33 %)"
    assert erp["happiness_change"] is None  # nothing in the previous period
    impact = chart_option(response, "impact")
    assert impact["yAxis"]["data"] == ["ERP", "E-mail", "Wi-Fi"]
    assert [bar["value"] for bar in impact["series"][0]["data"]] == [-4.5, -2.5, 1.5]
    assert [bar["itemStyle"]["color"] for bar in impact["series"][0]["data"]] == ["#c92a2a", "#c92a2a", "#2b8a3e"]
    text = response.content.decode()
    assert "Compared with the happiness target (+50.0)." in text


def test_each_priority_choice_changes_the_result(answered, users, client_for):
    client = client_for(users["analyst"])
    by_group = get(client, "/priorities/", dimension="group")
    assert [row["label"] for row in by_group.context["tables"]["priorities"].rows] == [
        "Zeta Desk", "Alpha Desk", "Network Team",
    ]  # fmt: skip
    # Against the baseline (the whole organisation's happiness, 9 answers: 4 good, 5 bad = -11.1).
    baseline = get(client, "/priorities/", reference="baseline")
    assert baseline.context["ranked"]["baseline"] == -11.1
    assert baseline.context["tables"]["priorities"].rows[0]["impact"] == round(3 * (-100 + 11.1) / 100, 1)
    assert "whole organisation's happiness in the period (-11.1)" in baseline.content.decode()
    previous = get(client, "/priorities/", reference="previous")
    assert all(row["impact"] is None for row in previous.context["tables"]["priorities"].rows)
    assert "impact" not in previous.context["charts"]  # nothing to draw against an empty previous period
    assert labels(get(client, "/priorities/", rank_by="volume"), "priorities")[0] == "Wi-Fi"  # four tickets
    assert labels(get(client, "/priorities/", rank_by="lost_cost"), "priorities") == ["ERP", "E-mail", "Wi-Fi"]


def test_the_hotspot_grid_follows_its_rows_and_columns(answered, users, client_for):
    client = client_for(users["analyst"])
    response = get(client, "/priorities/")
    table = response.context["tables"]["hotspots"]
    assert [col.label for col in table.columns[:2]] == ["Service", "Country"]
    assert (table.rows[0]["row"], table.rows[0]["column"]) == ("ERP", "TR")
    option = chart_option(response, "hotspots")
    judged, thin = option["series"]
    assert option["visualMap"]["seriesIndex"] == 0 and thin["data"] == []
    assert option["yAxis"]["data"][0] == "ERP" and option["xAxis"]["data"] == ["TR"]
    assert sorted(cell[2] for cell in judged["data"]) == sorted(row["impact"] for row in table.rows)

    by_channel = get(client, "/priorities/", rows="group", columns="channel")
    table = by_channel.context["tables"]["hotspots"]
    assert [col.label for col in table.columns[:2]] == ["Group", "Channel"]
    assert {(row["row"], row["column"]) for row in table.rows} == {
        ("Zeta Desk", "Phone"), ("Alpha Desk", "Phone"), ("Network Team", "Self-service portal"),
    }  # fmt: skip


def test_cells_with_too_few_answers_get_no_verdict_colour(answered, users, client_for, settings):
    settings.ANALYTICS_MIN_ANSWERS = 4
    response = get(client_for(users["analyst"]), "/priorities/")
    judged, thin = chart_option(response, "hotspots")["series"]
    assert judged["data"] == [] and len(thin["data"]) == 3
    assert thin["itemStyle"]["color"] == "#e9ecef"
    assert {row["judged"] for row in response.context["tables"]["hotspots"].rows} == {"too few answers"}
    bars = chart_option(response, "impact")["series"][0]["data"]
    assert {bar["itemStyle"]["color"] for bar in bars} == {"#868e96"}  # grey, not red or green


def test_lost_time_concentration_and_productivity_since_a_day(answered, users, client_for):
    client = client_for(users["analyst"])
    response = get(client, "/priorities/")
    found = response.context["concentration"]
    assert found["answers"] == 9 and found["share_for_80_percent"] is not None
    text = response.content.decode()
    assert "of the answered tickets cause 80 % of the work time lost" in text
    # By default productivity counts from 90 days before the period's end: no lost time was reported
    # before that day, so there is nothing to compare with.
    assert response.context["since"] == response.context["filters"].period.end - timedelta(days=90)
    assert response.context["tables"]["productivity"].rows == []
    # From yesterday, every answer so far is the baseline: the weeks since are listed.
    since = TODAY - timedelta(days=1)
    response = get(client, "/priorities/", since=since.isoformat())
    assert response.context["since"] == since
    # The six answers of two days ago lost 1,630 minutes; Wi-Fi's three since then lost 10.
    gained = response.context["gained"]
    assert gained["baseline_minutes_per_answer"] == round(1630 / 6, 1)
    assert gained["gained_work_days"] == round((1630 / 6 * 3 - 10) / 60 / 8, 1)
    rows = response.context["tables"]["productivity"].rows
    assert rows[0]["start"] == since and rows[-1]["cumulative"] == gained["gained_work_days"]
    assert "productivity" in response.context["charts"]
    assert "people lost 1.7 fewer work days than before" in response.content.decode()
    # The form that picks the day keeps the page's other choices.
    response = get(client, "/priorities/", since=since.isoformat(), dimension="group", period="30d")
    assert ("dimension", "group") in response.context["since_fields"]
    assert ("period", "30d") in response.context["since_fields"]
    assert all(key != "since" for key, _value in response.context["since_fields"])


def test_a_concentration_curve_is_drawn_when_the_analytics_give_one(answered, users, client_for, monkeypatch):
    curve = [(0.0, 0.0), (25.0, 70.0), (50.0, 95.0), (100.0, 100.0)]
    monkeypatch.setattr(
        analytics, "lost_time_concentration",
        lambda scope, period, filters: {"answers": 4, "lost_hours": 2.0, "share_for_80_percent": 30.0, "curve": curve},
    )  # fmt: skip
    option = chart_option(get(client_for(users["analyst"]), "/priorities/"), "lost_curve")
    assert option["xAxis"]["data"] == ["0 %", "25 %", "50 %", "100 %"]
    assert option["series"][0]["data"] == [0.0, 70.0, 95.0, 100.0]


# --- exports --------------------------------------------------------------------------------------


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _text(value) -> str:
    """A cell as CSV writes it (XLSX gives dates back as datetimes)."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, date) else str(value)


def _xlsx_rows(response) -> list[list]:
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize(
    "page, params, names",
    [
        ("/watermelons/", {}, ("watermelons", "reverse")),
        ("/priorities/", {"since": str(TODAY - timedelta(days=1))}, ("priorities", "hotspots", "productivity")),
    ],
)  # fmt: skip
def test_every_table_exports_its_rows_as_csv_and_xlsx(answered, users, client_for, page, params, names):
    client = client_for(users["analyst"])
    shown = get(client, page, **params).context["tables"]
    assert set(shown) == set(names)
    for name in names:
        table = shown[name]
        assert table.rows, name
        headers = [str(col.label) for col in table.columns]
        first = table.columns[0].key
        as_csv = client.get(page, params | {"export": "csv", "table": name})
        assert as_csv.status_code == 200 and as_csv["Content-Type"].startswith("text/csv")
        assert f'filename="itxm-{name}.csv"' in as_csv["Content-Disposition"]
        rows = _csv_rows(as_csv)
        assert rows[0] == headers and len(rows) == len(table.rows) + 1
        expected = [_text(row[first]) for row in table.rows]
        assert [row[0] for row in rows[1:]] == expected
        as_xlsx = client.get(page, params | {"export": "xlsx", "table": name})
        assert as_xlsx.status_code == 200
        rows = _xlsx_rows(as_xlsx)
        assert rows[0] == headers and len(rows) == len(table.rows) + 1
        assert [_text(row[0]) for row in rows[1:]] == expected


def test_the_watermelon_export_holds_numbers(answered, users, client_for):
    rows = _xlsx_rows(client_for(users["analyst"]).get("/watermelons/", {"export": "xlsx", "table": "watermelons"}))
    header, erp = rows[0], rows[1]
    assert erp[header.index("Source SLA met %")] == 100.0
    assert erp[header.index("Happiness")] == -100.0
    assert erp[header.index("Answers")] == 3


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "page, params, message",
    [
        ("/watermelons/", {"dimension": "planet"}, "“planet” is not a choice for Dimension; showing Service."),
        ("/watermelons/", {"dimension": "agent"}, "“agent” is not a choice for Dimension"),
        ("/watermelons/", {"sla_target": "ninety"}, "SLA target % must be a number from 0 to 100; showing 90."),
        ("/watermelons/", {"happiness_target": "500"}, "Happiness target must be a number from -100 to 100"),
        ("/watermelons/", {"happiness_target": "nan"}, "Happiness target must be a number from -100 to 100"),
        ("/priorities/", {"dimension": "location"}, "“location” is not a choice for Dimension"),
        ("/priorities/", {"reference": "moon"}, "“moon” is not a choice for Compared with"),
        ("/priorities/", {"rank_by": "luck"}, "“luck” is not a choice for Rank by"),
        ("/priorities/", {"rows": "nope"}, "“nope” is not a choice for Grid rows"),
        ("/priorities/", {"rows": "country", "columns": "country"}, "The grid needs two different dimensions"),
        ("/priorities/", {"since": "yesterday"}, "“yesterday” is not a day (YYYY-MM-DD)"),
        ("/priorities/", {"since": "2999-01-01"}, "Pick a day before the end of the period"),
    ],
)  # fmt: skip
def test_bad_choices_are_explained_and_the_default_shown(answered, users, client_for, page, params, message):
    response = get(client_for(users["analyst"]), page, **params)
    assert message in response.content.decode().replace("&#x27;", "'")
    assert response.context["tables"][("watermelons" if page == "/watermelons/" else "priorities")].rows


def test_user_text_in_messages_is_escaped(answered, users, client_for):
    response = get(client_for(users["analyst"]), "/watermelons/", dimension="<script>alert(1)</script>")
    text = response.content.decode()
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt;" in text


@pytest.mark.parametrize("page", PAGES)
def test_an_unknown_export_is_a_404_not_a_500(answered, users, client_for, page):
    client = client_for(users["analyst"])
    assert client.get(page, {"export": "pdf", "table": "watermelons"}).status_code == 404
    assert client.get(page, {"export": "csv", "table": "nope"}).status_code == 404


# --- suppliers see their own data only ------------------------------------------------------------


SUPPLIER_VIEWS = [
    ("/watermelons/", {"dimension": "service"}),
    ("/watermelons/", {"dimension": "group"}),
    ("/watermelons/", {"dimension": "supplier"}),
    ("/priorities/", {"dimension": "group", "rows": "group", "columns": "supplier"}),
    ("/priorities/", {"dimension": "service", "rows": "service", "columns": "country", "reference": "baseline"}),
]


@pytest.mark.parametrize("page, params", SUPPLIER_VIEWS)
def test_a_supplier_never_sees_another_suppliers_rows(answered, users, client_for, page, params):
    for user, other in (("alpha", "zeta"), ("zeta", "alpha")):
        client = client_for(users[user])
        response = get(client, page, **params)
        assert other not in response.content.decode().lower(), user
        tables = response.context["tables"]
        shown = [row for table in tables.values() for row in table.rows]
        assert shown, user  # each sees its own rows
        for name in tables:
            for fmt in ("csv", "xlsx"):
                exported = client.get(page, params | {"export": fmt, "table": name})
                assert exported.status_code == 200
                text = exported.content.decode("utf-8-sig") if fmt == "csv" else str(_xlsx_rows(exported))
                assert other not in text.lower(), (user, name, fmt)


def test_a_supplier_sees_its_own_watermelon_and_not_the_other_ones(answered, users, client_for):
    alpha = get(client_for(users["alpha"]), "/watermelons/")
    assert labels(alpha, "watermelons") == ["E-mail"] and labels(alpha, "reverse") == []
    assert "melon_quadrant" in alpha.context["charts"]
    drawn = chart_option(alpha, "melon_quadrant")["series"]
    assert [point["name"] for series in drawn for point in series["data"]] == ["E-mail"]
    ranked = get(client_for(users["alpha"]), "/priorities/", dimension="group")
    assert labels(ranked, "priorities") == ["Alpha Desk"]
    # Narrowing to a service or a group of another supplier shows nothing of it.
    zeta_group = Group.objects.get(external_id="GRP-ZETA")
    for params in ({"service": answered["erp"].pk}, {"group": zeta_group.pk}):
        response = get(client_for(users["alpha"]), "/watermelons/", **params)
        assert labels(response, "watermelons") == [] and response.context["charts"] == {}


def test_a_service_owner_sees_the_services_owned(answered, users, client_for):
    response = get(client_for(users["owner"]), "/watermelons/")
    assert labels(response, "watermelons") == ["E-mail"]
    assert "You see the data of the services you own only." in response.content.decode()
