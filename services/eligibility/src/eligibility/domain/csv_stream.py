"""A registry or score file read as it arrives, chunk by chunk (E13, E10 at national scale). Pure.

Records come out with the line they end on (header = 1), the numbers an editor shows, and only
their structure is checked here (the header, the count of columns, the encoding); the rules of
each cell run on the staging table in SQL (db/import_rules.py). A quoted field may hold a newline,
so only quote-balanced runs of lines are handed to the csv module.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator

from eligibility.domain.csv_rows import RowError


class FileNotUtf8(Exception):
    """The file is not UTF-8 text."""


class FileTooLarge(Exception):
    """The file is larger than an import may be."""


class _Lines:
    """The csv reader's source, refilled chunk by chunk (the reader keeps its line count)."""

    def __init__(self) -> None:
        self.current: Iterator[str] = iter(())

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        return next(self.current)


class CsvStream:
    """`feed(chunk)` → the complete records so far as (line, cells); `finish()` → the rest.
    Header errors and rows with more cells than the header go to `errors`."""

    def __init__(self, columns: tuple[str, ...], required: tuple[str, ...]) -> None:
        self.columns, self.required = columns, required
        self.header: list[str] | None = None
        self.errors: list[RowError] = []
        self.records = 0
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._pending = ""
        self._lines = _Lines()
        self._reader = csv.reader(self._lines)
        self._order: list[int] = []  # the file's column positions in `columns` order, -1 if absent

    @property
    def header_ok(self) -> bool:
        return self.header is not None and not any(e.row == 1 for e in self.errors)

    def feed(self, chunk: bytes) -> list[tuple[int, list[str]]]:
        try:
            text = self._pending + self._decoder.decode(chunk)
        except UnicodeDecodeError:
            raise FileNotUtf8 from None
        cut = text.rfind("\n")
        # A cut inside a quoted field waits for the rest of the field.
        while cut >= 0 and text.count('"', 0, cut) % 2:
            cut = text.rfind("\n", 0, cut)
        self._pending = text[cut + 1 :]
        return self._records(text[: cut + 1])

    def finish(self) -> list[tuple[int, list[str]]]:
        try:
            text = self._pending + self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise FileNotUtf8 from None
        self._pending = ""
        return self._records(text)

    def _records(self, text: str) -> list[tuple[int, list[str]]]:
        if not text:
            return []
        self._lines.current = iter(io.StringIO(text))
        out: list[tuple[int, list[str]]] = []
        try:
            for record in self._reader:
                if self.header is None:
                    self._read_header(record)
                    continue
                if not self.header_ok:
                    continue
                if len(record) > len(self.header):
                    self.errors.append(RowError(self._reader.line_num, "", "该行的列数多于表头"))
                    continue
                cells = [record[i].strip() if 0 <= i < len(record) else "" for i in self._order]
                if not any(cells):
                    continue  # a blank line
                out.append((self._reader.line_num, cells))
        except csv.Error as exc:
            self.errors.append(RowError(self._reader.line_num, "", f"CSV格式错误：{exc}"))
        self.records += len(out)
        return out

    def _read_header(self, record: list[str]) -> None:
        self.header = [h.strip() for h in record]
        missing = [c for c in self.required if c not in self.header]
        unknown = [h for h in self.header if h not in self.columns]
        self.errors += [RowError(1, c, "缺少该列") for c in missing] + [RowError(1, h, "未知的列") for h in unknown]
        self._order = [self.header.index(c) if c in self.header else -1 for c in self.columns]

    def structure_errors(self) -> list[RowError]:
        """After `finish()`: the file's own faults (an empty file included)."""
        if self.header is None:
            return [RowError(1, "", "文件中没有数据行")]
        if not self.records and not self.errors:
            return [RowError(1, "", "文件中没有数据行")]
        return self.errors
