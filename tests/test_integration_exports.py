"""Exports with records in every domain: each KIND of the contract in CSV and JSON, and one XLSX workbook
with a sheet per kind that parses back, every timestamp in the cluster's timezone."""

import csv
import io
import json
import re

import pytest
from openpyxl import load_workbook

from bot import cli
from tests import integration_world as w

KINDS = ("members", "events", "rsvps", "purchases", "pledges", "ledger", "loans", "polls", "responses", "glossary",
         "messages")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?")


@pytest.fixture
def world(db, cluster, add_member, phone):
    found = w.build(db, cluster, add_member)
    phone(w.PHONES[0]).last("BAL")  # a message each way, for the messages kind
    return found


def _timestamps(rows: list[dict]) -> list[str]:
    return [v for row in rows for v in row.values() if isinstance(v, str) and TIMESTAMP.match(v)]


@pytest.mark.parametrize("kind", KINDS)
def test_every_contract_kind_in_csv_and_json_with_local_times(cli_run, world, kind):
    code, out, err = cli_run("export", kind, "--format", "csv")
    assert code == 0, err
    from_csv = list(csv.DictReader(io.StringIO(out)))
    code, out, err = cli_run("export", kind, "--format", "json")
    assert code == 0, err
    from_json = json.loads(out)
    assert from_csv, f"{kind}: no rows although every domain has records"
    assert len(from_csv) == len(from_json) and list(from_csv[0]) == list(from_json[0])
    stamps = _timestamps(from_csv)
    assert all(s.endswith("+03:00") for s in stamps), (kind, [s for s in stamps if not s.endswith("+03:00")])


def test_workbook_has_one_sheet_per_kind_that_parses_back(cli_run, world, settings, monkeypatch, capsysbinary):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    capsysbinary.readouterr()
    assert cli.main(["export", "all", "--format", "xlsx"]) == 0
    book = load_workbook(io.BytesIO(capsysbinary.readouterr().out), read_only=True)
    assert set(KINDS) <= set(book.sheetnames)
    for kind in KINDS:
        rows = list(book[kind].iter_rows(values_only=True))
        _, text, _ = cli_run("export", kind, "--format", "csv")
        expected = list(csv.reader(io.StringIO(text)))
        assert list(rows[0]) == expected[0], kind
        assert len(rows) == len(expected), kind
        stamps = [v for row in rows[1:] for v in row if isinstance(v, str) and TIMESTAMP.match(v)]
        assert all(s.endswith("+03:00") for s in stamps), kind
