"""A registry or score file read as it arrives, chunk by chunk (E13, E10 at national scale). Pure.

Records come out with the line they start on (header = 1), the numbers an editor shows, and only
their structure is checked here (the header, the count of columns, the encoding); the rules of
each cell run on the staging table in SQL (db/import_rules.py). A quoted field may hold a newline,
so only quote-balanced runs of lines are read at a time.

The usual file (the columns in their order, no quotes, no spaces around cells) is not split at
all: such a line is already the CSV that COPY reads, and handing it on whole is what makes a
million rows cost seconds of Python rather than a minute.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from dataclasses import dataclass, field

from eligibility.domain.csv_rows import RowError

# A cell that str.strip() would change (spaces at either end), or a carriage return.
_UNTRIMMED = re.compile(r"(?:^|,)[^\S\n]|[^\S\n](?:,|$)|\r", re.MULTILINE)


class FileNotUtf8(Exception):
    """The file is not UTF-8 text."""


class FileTooLarge(Exception):
    """The file is larger than an import may be."""


@dataclass
class Records:
    """What a chunk held: `plain` lines are CSV of exactly the expected columns, as they were;
    `cells` are records that needed reading (quotes, spaces, other column orders)."""

    plain: list[tuple[int, str]] = field(default_factory=list)
    cells: list[tuple[int, list[str]]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.plain) + len(self.cells)


class CsvStream:
    """`feed(chunk)` → the complete records so far; `finish()` → the rest. Header errors and
    rows with more cells than the header go to `errors`."""

    def __init__(self, columns: tuple[str, ...], required: tuple[str, ...]) -> None:
        self.columns, self.required = columns, required
        self.header: list[str] | None = None
        self.errors: list[RowError] = []
        self.records = 0
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self._pending = ""
        self._lines = 0  # lines of the file read so far
        self._order: list[int] = []  # the file's column positions in `columns` order, -1 if absent

    @property
    def header_ok(self) -> bool:
        return self.header is not None and not any(e.row == 1 for e in self.errors)

    def feed(self, chunk: bytes) -> Records:
        try:
            text = self._pending + self._decoder.decode(chunk)
        except UnicodeDecodeError:
            raise FileNotUtf8 from None
        cut = text.rfind("\n")
        # A cut inside a quoted field waits for the rest of the field.
        while cut >= 0 and text.count('"', 0, cut) % 2:
            cut = text.rfind("\n", 0, cut)
        self._pending = text[cut + 1 :]
        return self._read(text[: cut + 1])

    def finish(self) -> Records:
        try:
            text = self._pending + self._decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise FileNotUtf8 from None
        self._pending = ""
        return self._read(text if not text or text.endswith("\n") else text + "\n")

    def structure_errors(self) -> list[RowError]:
        """After `finish()`: the file's own faults (an empty file included)."""
        if self.header is None or (not self.records and not self.errors):
            return [RowError(1, "", "文件中没有数据行")]
        return self.errors

    def _read(self, text: str) -> Records:
        out = Records()
        if self.header is None and text:
            first, _, text = text.partition("\n")
            self._lines += 1
            self._read_header(next(csv.reader([first]), []))
        if not text or not self.header_ok:
            return out
        if self._order == list(range(len(self.columns))) and '"' not in text and not _UNTRIMMED.search(text):
            self._plain(text, out)
        else:
            self._parsed(text, out)
        self.records += len(out)
        return out

    def _plain(self, text: str, out: Records) -> None:
        lines = text.split("\n")
        lines.pop()  # text ends with a newline
        commas, base, width = len(self.columns) - 1, self._lines + 1, len(self.header or ())
        plain, cells = out.plain, out.cells
        for i, line in enumerate(lines):
            if line.count(",") == commas:
                if line.strip(","):  # else a blank line
                    plain.append((base + i, line))
                continue
            values = line.split(",")
            if len(values) > width:
                self.errors.append(RowError(base + i, "", "该行的列数多于表头"))
            elif any(values):
                cells.append((base + i, values + [""] * (width - len(values))))
        self._lines += len(lines)

    def _parsed(self, text: str, out: Records) -> None:
        reader, base = csv.reader(io.StringIO(text)), self._lines
        width, order, strip = len(self.header or ()), self._order, str.strip
        ended = 0  # the line the last record ended on: a record starts on the next one
        try:
            for record in reader:
                line, ended = base + ended + 1, reader.line_num
                if len(record) > width:
                    self.errors.append(RowError(line, "", "该行的列数多于表头"))
                    continue
                cells = [strip(record[i]) if 0 <= i < len(record) else "" for i in order]
                if any(cells):  # else a blank line
                    out.cells.append((line, cells))
        except csv.Error as exc:
            self.errors.append(RowError(base + reader.line_num, "", f"CSV格式错误：{exc}"))
        self._lines += text.count("\n")

    def _read_header(self, record: list[str]) -> None:
        self.header = [h.strip() for h in record]
        missing = [c for c in self.required if c not in self.header]
        unknown = [h for h in self.header if h not in self.columns]
        self.errors += [RowError(1, c, "缺少该列") for c in missing] + [RowError(1, h, "未知的列") for h in unknown]
        self._order = [self.header.index(c) if c in self.header else -1 for c in self.columns]
