"""Reading an untrusted Excel ``.xlsx`` workbook: one guard for every upload.

A workbook is XML inside a zip. openpyxl parses it with defusedxml (requirements.txt pins
it): no entity expansion, no external entities, no DTD. Whatever else is wrong with a
file surfaces as one of a few exceptions, when it is opened or (read-only mode reads
lazily) when its rows are read; :func:`read_sheets` turns them all into
:class:`UnreadableWorkbook`. Used by the paper-form import and the XLSForm import.
"""
from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any, BinaryIO, Callable


class UnreadableWorkbook(Exception):
    """The file is not a workbook we read. ``kind`` is ``entities`` (it declares XML
    entities, a DOCTYPE), ``broken`` (broken XML or a character a workbook cannot hold,
    such as NUL), ``too_big`` (it unpacks to more than allowed) or ``other``; ``why`` is
    the English sentence the paper import shows."""

    def __init__(self, kind: str, why: str):
        super().__init__(why)
        self.kind = kind
        self.why = why


def _unpacked_size(handle: BinaryIO) -> int:
    try:
        with zipfile.ZipFile(handle) as archive:
            return sum(item.file_size for item in archive.infolist())
    finally:
        handle.seek(0)


def read_sheets(source: Path | str | bytes, cell: Callable[[Any], Any] = lambda c: c.value, *,
                first_only: bool = False, max_unpacked: int | None = None) -> list[tuple[str, list[list[Any]]]]:
    """Every sheet (or only the first) as ``(title, rows)``, each cell through ``cell``.

    ``max_unpacked`` bounds the bytes the zip says it unpacks to (a zip bomb is refused
    before anything is parsed). Raises :class:`UnreadableWorkbook`.
    """
    from xml.etree.ElementTree import ParseError
    from zipfile import BadZipFile

    import openpyxl
    from defusedxml import DefusedXmlException
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    if not openpyxl.DEFUSEDXML:
        raise RuntimeError("defusedxml must be installed (and OPENPYXL_DEFUSEDXML not False) to read workbooks")

    def unreadable(exc: Exception) -> UnreadableWorkbook:
        if isinstance(exc, DefusedXmlException) or isinstance(exc.__cause__, DefusedXmlException):
            return UnreadableWorkbook("entities", "it declares XML entities (a DOCTYPE), which are refused")
        if isinstance(exc, ParseError):
            return UnreadableWorkbook(
                "broken", f"its XML is broken or holds a character a workbook cannot, such as NUL ({exc})")
        return UnreadableWorkbook("other", str(exc).splitlines()[0] if str(exc) else type(exc).__name__)

    broken = (BadZipFile, InvalidFileException, KeyError, OSError, ValueError, ParseError, EOFError)
    sheets: list[tuple[str, list[list[Any]]]] = []
    try:
        # The file is ours to close: openpyxl leaves it open when the workbook is refused.
        with (io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")) as handle:
            if max_unpacked is not None and _unpacked_size(handle) > max_unpacked:
                raise UnreadableWorkbook("too_big", f"it unpacks to more than {max_unpacked // (1024 * 1024)} MB")
            workbook = load_workbook(handle, read_only=True, data_only=True)
            try:
                for sheet in workbook.worksheets[:1] if first_only else workbook.worksheets:
                    rows = [[cell(c) for c in row] for row in sheet.iter_rows(min_row=1)]
                    sheets.append((sheet.title, rows))
            finally:
                workbook.close()
    except broken as exc:
        raise unreadable(exc) from None
    return sheets
