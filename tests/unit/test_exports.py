"""Cells of exported files are shown by spreadsheet programs, never run."""

import csv
import io

import pytest

from bot.exports import csv_bytes, safe_cell, safe_filename


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_could_start_a_formula_is_quoted(start):
    assert safe_cell(f"{start}1+1") == f"'{start}1+1"


@pytest.mark.parametrize("value", ["Wang Li", "王丽", "a=b", "1-2", "", "'=already"])
def test_other_text_is_unchanged(value):
    assert safe_cell(value) == value


def test_numbers_stay_numbers_and_none_is_empty():
    assert (safe_cell(-5), safe_cell(2.5), safe_cell(None)) == (-5, 2.5, "")


def test_csv_bytes_has_a_bom_and_safe_cells_in_every_row_and_the_header():
    data = csv_bytes(["=name", "points"], [["=1+1", -3], ["王丽", 7]])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [["'=name", "points"], ["'=1+1", "-3"], ["王丽", "7"]]


@pytest.mark.parametrize(
    ("stem", "name"),
    [
        ("结算单-温泉酒店-2026-11", "结算单-温泉酒店-2026-11.csv"),
        ("结算单-温泉/酒店\\后台-2026-11", "结算单-温泉-酒店-后台-2026-11.csv"),
        ("statement-Spa\x00\x07\r\nhotel\u202e-2026-11", "statement-Spa hotel-2026-11.csv"),
        ("../../etc/passwd", "etc-passwd.csv"),
        ("...", "file.csv"),
        ("名" * 200, "名" * 80 + ".csv"),
    ],
)
def test_file_names_are_safe(stem, name):
    assert safe_filename(stem, ".csv") == name
