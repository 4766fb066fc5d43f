"""Journeys, channels and drivers pages: tickets sent through ingestion and answered through the survey
services, read by every role; a supplier never sees another supplier's groups, even inside a path."""

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from tests.analytics.conftest import DAY, answer, ingest, people, ticket_row  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

PAGES = ("/journeys/", "/journeys/channels/", "/journeys/drivers/")
EMPTY_PERIOD = "?period=custom&start=2020-01-01&end=2020-01-31"


def moves(*groups: str) -> list[dict]:
    """The history of a ticket passed along these groups, then resolved."""
    history = [{"at": DAY.isoformat(), "kind": "state", "to": "New"}]
    for step, group in enumerate(groups, start=1):
        history.append({"at": (DAY + timedelta(minutes=step)).isoformat(), "kind": "assignment", "to": group})
    history.append({"at": (DAY + timedelta(hours=1)).isoformat(), "kind": "state", "to": "Resolved"})
    return history


@pytest.fixture
def paths(org, people, settings):  # noqa: F811 (fixture)
    """Alpha's desk alone (4 tickets, happy), Alpha → Network → Alpha (3, a ping-pong, unhappy),
    Zeta → Alpha (2, resolved by Alpha) and Zeta's own desk (2, ERP)."""
    settings.ANALYTICS_MIN_ANSWERS = 2
    zeta = {"group": "GRP-ZETA", "assignee": "AG-ZETA", "service": "SVC-ERP"}
    ingest([
        *(ticket_row(f"A{i}", f"E{i}", history=moves("GRP-ALPHA")) for i in range(1, 5)),
        *(ticket_row(f"P{i}", f"E{i + 4}", hours=30, channel="email", reassignment_count=2,
                     history=moves("GRP-ALPHA", "GRP-NET", "GRP-ALPHA")) for i in range(1, 4)),
        *(ticket_row(f"Z{i}", f"E{i + 7}", history=moves("GRP-ZETA", "GRP-ALPHA")) for i in range(1, 3)),
        *(ticket_row(f"ZZ{i}", f"E{i}", history=moves("GRP-ZETA"), **zeta) for i in range(1, 3)),
    ])  # fmt: skip
    for number, score in (("A1", 10), ("A2", 9), ("A3", 10), ("A4", 9), ("P1", 2), ("P2", 3), ("P3", 1)):
        answer(number, score, 150 if number.startswith("P") else 0, ["slow"] if score < 7 else [])
    return org


@pytest.fixture
def busy(org, people, settings):  # noqa: F811 (fixture)
    """72 resolved Alpha tickets: E-mail mostly by the portal, ERP all but one by e-mail; each reassignment
    adds 8 hours to the resolution time (and a little deterministic noise)."""
    settings.ANALYTICS_MIN_ANSWERS = 2
    rows = []
    for i in range(72):
        erp = i % 2 == 1
        channel = ("portal" if i == 1 else "email") if erp else ("phone" if i % 3 == 0 else "portal")
        reassignments = i % 4
        hours = 2 + 8 * reassignments + ((i * 7) % 5 - 2) * 0.25
        rows.append(ticket_row(f"B{i}", f"E{i % 10 + 1}", hours=hours, channel=channel, priority=3 + i % 2,
                               reassignment_count=reassignments, service="SVC-ERP" if erp else "SVC-MAIL"))  # fmt: skip
    ingest(rows)
    for i in (3, 5, 7):
        answer(f"B{i}", 3, 150, ["slow", "passed_around"])
    return org


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, response.content[:2000]
    return response.content.decode()


def csv_rows(client, url: str) -> list[list[str]]:
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def xlsx_rows(client, url: str) -> list[tuple]:
    response = client.get(url)
    assert response.status_code == 200
    return list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))


# --- every page, every role ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "analyst", "viewer", "owner", "alpha", "zeta"])
def test_every_role_opens_the_three_pages(paths, users, client_for, role):
    client = client_for(users[role])
    for url in PAGES:
        assert 'class="sub-nav"' in page(client, url)


def test_the_sub_nav_marks_the_current_page_and_keeps_the_filters(paths, users, client_for):
    html = page(client_for(users["analyst"]), "/journeys/channels/?period=30d&path=state")

    assert '<a href="/journeys/channels/?period=30d" aria-current="page">' in html
    assert '<a href="/journeys/?period=30d">' in html and '<a href="/journeys/drivers/?period=30d">' in html


def test_pages_need_a_signed_in_user(paths, client):
    for url in PAGES:
        assert client.get(url).status_code == 302


# --- paths ----------------------------------------------------------------------------------------


def test_paths_show_readable_steps_and_flag_the_ping_pong_that_hurts(paths, users, client_for):
    client = client_for(users["analyst"])
    rows = {row[1]: row for row in csv_rows(client, "/journeys/?export=csv&table=variants")[1:]}

    ping_pong = rows["Alpha Desk → Network Team → Alpha Desk"]
    desk = rows["Alpha Desk"]
    # Columns: rank, path, hurts, ping-pong, tickets, share, ...
    assert ping_pong[2:5] == ["yes", "yes", "3"] and desk[2:5] == ["no", "no", "4"]
    html = page(client, "/journeys/")
    assert 'class="hurts"' in html and "⇄ ping-pong" in html
    assert 'data-chart="variants"' in html
    assert "1 path hurts" in html


def test_state_paths_name_the_states(paths, users, client_for):
    rows = csv_rows(client_for(users["analyst"]), "/journeys/?path=state&export=csv&table=variants")

    assert rows[1][1] == "New → Resolved" and rows[1][4] == "11"


def test_the_service_filter_narrows_the_paths(paths, users, client_for):
    client = client_for(users["analyst"])
    erp = paths["erp"].pk
    everything = {row[1] for row in csv_rows(client, "/journeys/?export=csv&table=variants")[1:]}
    only_erp = {row[1] for row in csv_rows(client, f"/journeys/?service={erp}&export=csv&table=variants")[1:]}

    assert "Alpha Desk" in everything and only_erp == {"Zeta Desk"}


def test_paths_export_to_xlsx_with_numbers(paths, users, client_for):
    rows = xlsx_rows(client_for(users["analyst"]), "/journeys/?export=xlsx&table=variants")

    assert rows[0][:5] == ("Rank", "Path", "Hurts", "Ping-pong", "Tickets")
    assert sorted(row[4] for row in rows[1:]) == [2, 2, 3, 4]


def test_a_supplier_never_sees_another_suppliers_group_in_a_path(paths, users, client_for):
    alpha = client_for(users["alpha"])
    html = page(alpha, "/journeys/")
    exported = csv_rows(alpha, "/journeys/?export=csv&table=variants")
    workbook = xlsx_rows(alpha, "/journeys/?export=xlsx&table=variants")

    assert "another group → Alpha Desk" in {row[1] for row in exported}
    assert "zeta" not in html.lower()
    assert "zeta" not in str(exported).lower() and "zeta" not in str(workbook).lower()
    zeta_view = page(client_for(users["zeta"]), "/journeys/") + str(
        csv_rows(client_for(users["zeta"]), "/journeys/?export=csv&table=variants")
    )
    assert "Zeta Desk" in zeta_view and "Alpha Desk" not in zeta_view and "Network Team" not in zeta_view


def test_a_supplier_filtering_on_another_suppliers_group_gets_nothing(paths, users, client_for):
    zeta_group = paths["zeta_group"].pk
    html = page(client_for(users["alpha"]), f"/journeys/?group={zeta_group}")

    assert "No resolved tickets with a path" in html and "zeta" not in html.lower()


@pytest.mark.parametrize(
    "query", ["?path=agent", "?limit=100000", "?limit=-1", "?path=&limit=abc", "?period=nonsense&path=%00"]
)
def test_unknown_choices_fall_back_to_the_defaults(paths, users, client_for, query):
    html = page(client_for(users["analyst"]), "/journeys/" + query)

    assert '<option value="group" selected>' in html and '<option value="30" selected>' in html


def test_the_number_of_paths_shown_follows_the_choice(busy, paths, users, client_for):
    rows = csv_rows(client_for(users["analyst"]), "/journeys/?path=state&limit=15&export=csv&table=variants")

    assert 1 < len(rows) <= 16


# --- channels -------------------------------------------------------------------------------------


def test_channels_show_volume_purpose_and_experience(busy, users, client_for):
    client = client_for(users["analyst"])
    rows = {row[0]: row for row in csv_rows(client, "/journeys/channels/?export=csv&table=channels")[1:]}

    # Columns: channel, tickets, share, mostly about, answers, happiness, lost minutes, reopened, resolution.
    assert rows["Self-service portal"][1] == "25" and rows["E-mail"][1] == "35" and rows["Phone"][1] == "12"
    assert rows["E-mail"][3].startswith("ERP (100.0 %)") and rows["E-mail"][4] == "3"
    assert rows["E-mail"][5] == "-100.0"
    html = page(client, "/journeys/channels/")
    assert 'data-chart="channel_mix"' in html and 'data-chart="channel_happiness"' in html


def test_channels_list_the_service_that_avoids_the_portal_and_why(busy, users, client_for):
    client = client_for(users["analyst"])
    html = page(client, "/journeys/channels/")
    rows = csv_rows(client, "/journeys/channels/?export=csv&table=avoided")
    workbook = xlsx_rows(client, "/journeys/channels/?export=xlsx&table=avoided")

    assert 'data-service="SVC-ERP"' in html and 'data-service="SVC-MAIL"' not in html
    assert [row[:5] for row in rows[1:]] == [["ERP", "SVC-ERP", "36", "1", "2.8"]]
    assert "Took too long (3)" in rows[1][6] and "Passed around several times (3)" in rows[1][6]
    assert workbook[1][:5] == ("ERP", "SVC-ERP", 36, 1, 2.8)


def test_channels_narrow_to_a_service(busy, users, client_for):
    mail = busy["email"].pk
    rows = csv_rows(client_for(users["analyst"]), f"/journeys/channels/?service={mail}&export=csv&table=channels")

    assert {row[0]: row[1] for row in rows[1:]} == {"Self-service portal": "24", "Phone": "12"}


def test_a_supplier_sees_only_its_own_channels(busy, paths, users, client_for):
    zeta = client_for(users["zeta"])
    rows = csv_rows(zeta, "/journeys/channels/?export=csv&table=channels")

    assert [(row[0], row[1]) for row in rows[1:]] == [("Phone", "2")]
    assert "SVC-ERP" not in page(zeta, "/journeys/channels/").split('class="avoided"')[1]


# --- drivers --------------------------------------------------------------------------------------


def test_drivers_find_the_hours_each_reassignment_adds(busy, users, client_for):
    client = client_for(users["analyst"])
    rows = {row[0]: row for row in csv_rows(client, "/journeys/drivers/?outcome=resolution_hours&export=csv")[1:]}

    effect, low, high = (float(value) for value in rows["Reassignments (each)"][1:4])
    assert 7.5 < effect < 8.5 and low < effect < high
    assert rows["Reassignments (each)"][5] == "clear"
    assert rows["Reassignments (each)"][6].startswith("Each extra reassignment adds 8.")
    html = page(client, "/journeys/drivers/?outcome=resolution_hours")
    assert 'data-chart="drivers"' in html and '"type": "boxplot"' in html
    assert "Based on 72 resolved tickets." in html and "resolving group" in html and "R²" in html


def test_drivers_speak_the_readers_language(busy, users, client_for):
    client = client_for(users["analyst"])
    client.cookies["django_language"] = "tr"
    html = page(client, "/journeys/drivers/?outcome=resolution_hours")

    assert '<html lang="tr">' in html
    assert "Her ek yeniden atama, diğer koşullar aynıyken çözüm süresine 8," in html
    assert "Each extra reassignment adds" not in html


def test_drivers_export_to_xlsx(busy, users, client_for):
    rows = xlsx_rows(client_for(users["analyst"]), "/journeys/drivers/?outcome=resolution_hours&export=xlsx")

    reassignments = next(row for row in rows if row[0] == "Reassignments (each)")
    assert 7.5 < reassignments[1] < 8.5


def test_drivers_with_too_few_rows_say_why(paths, users, client_for):
    html = page(client_for(users["analyst"]), "/journeys/drivers/?outcome=lost_minutes")

    assert "Too few to tell: 7 in this period, at least 30 are needed." in html
    assert '<option value="lost_minutes" selected>' in html


@pytest.mark.parametrize("outcome", ["bogus", "", "score%27--", "RESOLUTION_HOURS"])
def test_an_unknown_outcome_falls_back_to_the_score(busy, users, client_for, outcome):
    html = page(client_for(users["analyst"]), f"/journeys/drivers/?outcome={outcome}")

    assert '<option value="score" selected>' in html


def test_a_supplier_drivers_use_only_its_own_tickets(busy, paths, users, client_for):
    html = page(client_for(users["zeta"]), "/journeys/drivers/?outcome=resolution_hours")

    assert "Too few to tell: 2 in this period" in html


# --- empty and unknown ----------------------------------------------------------------------------


def test_a_fresh_installation_shows_what_to_do(users, client_for):
    client = client_for(users["analyst"])

    assert "No resolved tickets with a path in this period" in page(client, "/journeys/" + EMPTY_PERIOD)
    channels = page(client, "/journeys/channels/" + EMPTY_PERIOD)
    assert "No tickets were opened in this period" in channels and "No service is avoided" in channels
    assert 'data-chart="' not in channels
    drivers = page(client, "/journeys/drivers/" + EMPTY_PERIOD)
    assert "No effects to show" in drivers and "Too few to tell: 0 in this period" in drivers


def test_an_empty_table_still_exports_its_header(users, client_for):
    rows = csv_rows(client_for(users["analyst"]), "/journeys/" + EMPTY_PERIOD + "&export=csv&table=variants")

    assert rows == [["Rank", "Path", "Hurts", "Ping-pong", "Tickets", "Share %", "Median hours",
                     "9 in 10 within (hours)", "Reassignments per ticket", "SLA compliance %", "Reopened %",
                     "Answers", "Happiness", "Against all paths", "Lost minutes per answer"]]  # fmt: skip


@pytest.mark.parametrize("query", ["?export=csv&table=nope", "?export=pdf&table=variants"])
def test_an_unknown_export_is_not_found(users, client_for, query):
    assert client_for(users["analyst"]).get("/journeys/" + query).status_code == 404
