"""The real ServiceNow audit-snapshot log from ../shared/datasets imports completely, twice, and its
figures equal an independent computation written here with nothing but the csv module."""

import csv
import gzip
import hashlib
import io
import os
import re
import statistics
from datetime import datetime
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from itxm.tickets.mapping import load_mapping
from itxm.tickets.models import Ticket, TicketEvent
from itxm.tickets.services import import_ticket_file
from tests.analytics.uci_figures import assert_analytics_equal_an_independent_computation

DATASETS = Path(os.environ.get("ITXM_DATASETS") or Path(__file__).resolve().parents[2].parent / "shared" / "datasets")
DATASET = DATASETS / "uci-incident-event-log.csv.gz"
pytestmark = [pytest.mark.slow, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def dataset_is_there():
    assert DATASET.is_file(), (
        f"{DATASET} is missing: the shared datasets sit beside the repository (or set ITXM_DATASETS)"
    )


def independent_figures() -> dict:
    last: dict[str, dict] = {}
    with gzip.open(DATASET, "rt", newline="") as handle:
        for row in csv.DictReader(handle):
            current = last.get(row["number"])
            if current is None or int(row["sys_mod_count"]) >= int(current["sys_mod_count"]):
                last[row["number"]] = row

    def when(text):
        return datetime.strptime(text, "%d/%m/%Y %H:%M")

    hours = [
        (when(r["resolved_at"]) - when(r["opened_at"])).total_seconds() / 3600
        for r in last.values()
        if r["resolved_at"] != "?"
    ]
    return {
        "incidents": len(last),
        "mean_reassignments": statistics.fmean(int(r["reassignment_count"]) for r in last.values()),
        "share_reopened": sum(int(r["reopen_count"]) > 0 for r in last.values()) / len(last),
        "median_hours_to_resolve": statistics.median(hours),
        "share_made_sla": sum(r["made_sla"] == "true" for r in last.values()) / len(last),
    }


def imported_figures() -> dict:
    tickets = list(
        Ticket.objects.filter(source="servicenow").values(
            "reassignment_count", "reopen_count", "opened_at", "resolved_at", "source_made_sla"
        )
    )
    hours = [(t["resolved_at"] - t["opened_at"]).total_seconds() / 3600 for t in tickets if t["resolved_at"]]
    return {
        "incidents": len(tickets),
        "mean_reassignments": statistics.fmean(t["reassignment_count"] for t in tickets),
        "share_reopened": sum(t["reopen_count"] > 0 for t in tickets) / len(tickets),
        "median_hours_to_resolve": statistics.median(hours),
        "share_made_sla": sum(bool(t["source_made_sla"]) for t in tickets) / len(tickets),
    }


def digest() -> str:
    h = hashlib.sha256()
    for row in Ticket.objects.filter(source="servicenow").order_by("source_id").values_list():
        h.update(repr(row[1:]).encode())
    for row in TicketEvent.objects.order_by("ticket__source_id", "seq").values_list(
        "ticket__source_id", "seq", "at", "kind", "from_value", "to_value", "group__external_id"
    ):
        h.update(repr(row).encode())
    return h.hexdigest()


def strip_prefixes(target: Path) -> None:
    """The same log as a copy whose labels lost their prefixes ("2403" for "Caller 2403")."""
    prefixes = {
        "number": "INC",
        "caller_id": "Caller ",
        "assignment_group": "Group ",
        "assigned_to": "Resolver ",
        "category": "Category ",
    }
    with gzip.open(DATASET, "rt", newline="") as source, target.open("w", newline="") as out:
        reader = csv.DictReader(source)
        writer = csv.DictWriter(out, reader.fieldnames)
        writer.writeheader()
        for row in reader:
            for column, prefix in prefixes.items():
                row[column] = re.sub("^" + re.escape(prefix), "", row[column])
            writer.writerow(row)


def test_the_real_log_imports_completely_twice_and_matches_an_independent_computation(tmp_path):
    mapping = load_mapping("servicenow-snapshots")

    first = import_ticket_file(DATASET, mapping)
    first_digest = digest()
    second = import_ticket_file(DATASET, mapping)

    assert first.created == 24918 and first.updated == 0
    # five snapshot rows carry the state "-100": reported, while their incidents load from the other rows
    assert [(e.field, e.reason) for e in first.errors] == [("state", "'-100' is not a known state")] * 5
    assert (second.created, second.updated, second.unchanged) == (0, 0, 24918)
    assert digest() == first_digest

    expected, actual = independent_figures(), imported_figures()
    assert actual["incidents"] == expected["incidents"] == 24918
    for name in ("mean_reassignments", "share_reopened", "median_hours_to_resolve", "share_made_sla"):
        assert actual[name] == pytest.approx(expected[name], rel=1e-12), name
    assert_analytics_equal_an_independent_computation(DATASET)

    unprefixed = tmp_path / "unprefixed.csv"
    strip_prefixes(unprefixed)
    third = import_ticket_file(unprefixed, load_mapping("servicenow-snapshots-unprefixed"))
    assert (third.created, third.updated, third.unchanged) == (0, 0, 24918)
    assert digest() == first_digest


def first_lines(tmp_path, count: int) -> Path:
    sample = tmp_path / "sample.csv"
    with gzip.open(DATASET, "rt", newline="") as handle:
        sample.write_text("".join(next(handle) for _ in range(count)))
    return sample


def test_history_is_rebuilt_from_the_snapshots(tmp_path):
    import_ticket_file(first_lines(tmp_path, 200), load_mapping("servicenow-snapshots"))
    ticket = Ticket.objects.get(source="servicenow", number="INC0000045")
    events = list(ticket.events.values_list("kind", "from_value", "to_value"))
    assert events == [
        ("state", "", "new"),
        ("assignment", "", "Group 56"),
        ("state", "new", "resolved"),
        ("state", "resolved", "closed"),
    ]
    assert ticket.group.external_id == "Group 56" and ticket.caller.external_id == "Caller 2403"
    assert (ticket.priority, ticket.impact, ticket.urgency, ticket.channel) == (3, 2, 2, "phone")


def test_the_cli_imports_tickets_with_a_ready_mapping(tmp_path):
    sample = first_lines(tmp_path, 200)
    out = io.StringIO()

    call_command("import", "tickets", str(sample), "--mapping", "servicenow-snapshots", stdout=out)

    assert re.search(r"tickets: \d+ created, 0 updated, 0 unchanged, 0 stale, 0 rejected", out.getvalue())
    with pytest.raises(CommandError, match="no mapping 'nonsense'"):
        call_command("import", "tickets", str(sample), "--mapping", "nonsense")
