import csv
import io
import json
import random
from decimal import Decimal

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from itxm.org.importing import UnknownKind, import_org_file
from itxm.org.models import Agent, Department, Employee, Group, Location, Supplier
from itxm.tabular import UnreadableFile

HEADER = ["external_id", "name", "email", "department", "location", "country", "language", "cost_per_hour", "opted_out"]


def employee_rows(count: int, seed: int = 7) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        turkish = n % 3 == 0
        rows.append(
            [
                f"E{n:05d}",
                f"İlkay Işık {n}" if turkish else f"Jane Doe {n}",
                f"person{n}@example.com",
                rng.choice(["Finance", "Sales", "Engineering"]),
                "Istanbul" if turkish else rng.choice(["London", "Berlin"]),
                "TR" if turkish else rng.choice(["GB", "DE"]),
                "tr" if turkish else "en",
                f"{rng.randint(20, 90)}.50",
                "yes" if n % 50 == 0 else "no",
            ]
        )
    return rows


def as_csv(rows: list[list[str]], header=HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def load(content: bytes, filename: str, kind: str | None = None):
    return import_org_file(io.BytesIO(content), filename, kind)


@pytest.fixture
def thousand_rows_three_bad():
    rows = employee_rows(1000)
    rows[9][2] = "not-an-email"  # CSV line 11 (the header is line 1)
    rows[499][1] = ""  # line 501: no name
    rows[799][7] = "-5"  # line 801: negative cost
    return as_csv(rows)


@pytest.mark.django_db
def test_thousand_rows_with_three_bad_load_997_and_report_the_three(thousand_rows_three_bad):
    [report] = load(thousand_rows_three_bad, "employees.csv")

    assert report.created == 997
    assert Employee.objects.count() == 997
    assert [(e.line, e.field) for e in report.errors] == [(11, "email"), (501, "name"), (801, "cost_per_hour")]
    assert "not an e-mail address" in report.errors[0].reason
    assert report.errors[1].reason == "is required"
    assert "at least 0" in report.errors[2].reason
    # the rows around each bad one are there
    assert Employee.objects.filter(external_id__in=["E00008", "E00010", "E00498", "E00500", "E00798"]).count() == 5


@pytest.mark.django_db
def test_loading_the_same_file_again_changes_nothing(thousand_rows_three_bad):
    load(thousand_rows_three_bad, "employees.csv")
    before = list(Employee.objects.order_by("id").values())

    [again] = load(thousand_rows_three_bad, "employees.csv")

    assert (again.created, again.updated, again.unchanged) == (0, 0, 997)
    assert len(again.errors) == 3
    assert list(Employee.objects.order_by("id").values()) == before
    assert Department.objects.count() == 3 and Location.objects.count() == 3


@pytest.mark.django_db
def test_changed_rows_update_only_what_changed():
    rows = employee_rows(5)
    load(as_csv(rows), "employees.csv")
    rows[2][7] = "99.00"
    rows[3][8] = "yes"

    [report] = load(as_csv(rows), "employees.csv")

    assert (report.created, report.updated, report.unchanged) == (0, 2, 3)
    assert Employee.objects.get(external_id="E00002").cost_per_hour == Decimal("99.00")
    assert Employee.objects.get(external_id="E00003").opted_out is True


@pytest.mark.django_db
def test_a_repeated_external_id_is_reported_with_the_line_of_its_first_occurrence():
    rows = employee_rows(3)
    rows.append(list(rows[0]))

    [report] = load(as_csv(rows), "employees.csv")

    assert report.created == 3
    assert [(e.line, e.field) for e in report.errors] == [(5, "external_id")]
    assert "first on line 2" in report.errors[0].reason


@pytest.mark.django_db
def test_one_row_can_carry_several_field_errors():
    rows = employee_rows(2)
    rows[1][5] = "Turkey"
    rows[1][6] = "klingon"

    [report] = load(as_csv(rows), "employees.csv")

    assert report.created == 1
    assert {(e.line, e.field) for e in report.errors} == {(3, "country"), (3, "language")}


@pytest.mark.django_db
def test_semicolon_csv_with_byte_order_mark_and_turkish_text():
    content = "\ufeffexternal_id;name;language;location;country\nT1;Çağrı Öztürk;Türkçe;İzmir;tr\n".encode()

    [report] = load(content, "people.csv", kind="employees")

    person = Employee.objects.get(external_id="T1")
    assert report.created == 1 and not report.errors
    assert (person.name, person.language, person.country, person.location.name) == ("Çağrı Öztürk", "tr", "TR", "İzmir")
    assert person.location.country == "TR"


@pytest.mark.django_db
def test_workbook_sheets_load_in_dependency_order():
    book = openpyxl.Workbook()
    employees = book.active
    employees.title = "employees"
    employees.append(["external_id", "name", "cost_per_hour"])
    employees.append([1001, "Ada Lovelace", 55])
    groups = book.create_sheet("groups")
    groups.append(["external_id", "name", "supplier"])
    groups.append(["G1", "Service Desk", "S1"])
    groups.append(["G2", "Ghost Team", "S-UNKNOWN"])
    suppliers = book.create_sheet("suppliers")
    suppliers.append(["external_id", "name"])
    suppliers.append(["S1", "Acme Outsourcing"])
    stream = io.BytesIO()
    book.save(stream)

    reports = {r.kind: r for r in load(stream.getvalue(), "org.xlsx")}

    assert list(reports) == ["suppliers", "groups", "employees"]
    assert Group.objects.get(external_id="G1").supplier.name == "Acme Outsourcing"
    assert [(e.line, e.field) for e in reports["groups"].errors] == [(3, "supplier")]
    assert "no supplier 'S-UNKNOWN'" in reports["groups"].errors[0].reason
    assert Employee.objects.get(external_id="1001").cost_per_hour == Decimal("55.00")


@pytest.mark.django_db
def test_json_document_with_sections_and_a_bad_item():
    document = {
        "agents": [{"external_id": "A1", "name": "Deniz", "group": "G1"}, "not an object"],
        "groups": [{"external_id": "G1", "name": "Network"}],
    }

    reports = {r.kind: r for r in load(json.dumps(document).encode(), "org.json")}

    assert Agent.objects.get(external_id="A1").group.name == "Network"
    assert [(e.line, e.field) for e in reports["agents"].errors] == [(2, "")]


@pytest.mark.django_db
def test_ndjson_keeps_the_lines_around_a_broken_one():
    content = b'{"external_id": "S1", "name": "One"}\n{broken\n\n{"external_id": "S2", "name": "Two"}\n'

    [report] = load(content, "suppliers.ndjson")

    assert sorted(Supplier.objects.values_list("external_id", flat=True)) == ["S1", "S2"]
    assert [e.line for e in report.errors] == [2]


@pytest.mark.django_db
def test_a_file_that_cannot_be_read_as_a_whole_gets_a_clear_error():
    with pytest.raises(UnreadableFile, match="not valid JSON"):
        load(b"{nope", "org.json")
    with pytest.raises(UnreadableFile, match="cannot tell the format"):
        load(b"a,b", "org.txt")
    with pytest.raises(UnreadableFile, match="not a readable XLSX"):
        load(b"plain text", "org.xlsx")
    with pytest.raises(UnknownKind):
        load(json.dumps({"spaceships": []}).encode(), "org.json")


@pytest.mark.django_db
def test_cli_import_reports_rejected_rows_and_exits_non_zero(tmp_path, thousand_rows_three_bad):
    path = tmp_path / "employees.csv"
    path.write_bytes(thousand_rows_three_bad)
    out = io.StringIO()

    with pytest.raises(CommandError, match="3 rows were rejected") as failure:
        call_command("import", "org", str(path), stdout=out)

    assert failure.value.returncode == 1
    text = out.getvalue()
    assert "employees: 997 created, 0 updated, 0 unchanged, 3 rejected" in text
    assert "line 11, email:" in text and "line 501, name: is required" in text


@pytest.mark.django_db
def test_api_import_needs_the_import_permission(users, client_for):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("suppliers.csv", b"external_id,name\nS9,Nine\n", content_type="text/csv")
    refused = client_for(users["analyst"]).post("/api/v1/org/import", {"file": upload})
    assert refused.status_code == 403

    upload.seek(0)
    accepted = client_for(users["admin"]).post("/api/v1/org/import", {"file": upload})
    assert accepted.status_code == 200
    assert accepted.json()[0] | {"errors": []} == {
        "kind": "suppliers",
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
        "errors": [],
    }
