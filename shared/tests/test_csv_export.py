"""Issue 15: streamed CSV for Excel: a BOM once, chunks of bounded rows, no cell Excel would run."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

from cet_shared.csv_export import BOM, csv_chunks


async def numbered(n: int) -> AsyncIterator[tuple]:
    for i in range(n):
        yield (i, f"考生{i}")


async def test_the_bom_comes_once_and_chunks_hold_at_most_chunk_rows() -> None:
    chunks = [chunk async for chunk in csv_chunks(["序号", "姓名"], numbered(25), chunk_rows=10)]
    assert [c.count(b"\r\n") for c in chunks] == [11, 10, 5]  # the header rides with the first rows
    text = b"".join(chunks).decode("utf-8")
    assert text.startswith(BOM) and text.count(BOM) == 1
    rows = list(csv.reader(io.StringIO(text.removeprefix(BOM))))
    assert rows[0] == ["序号", "姓名"] and rows[-1] == ["24", "考生24"]


async def test_formulas_are_defused_and_values_written_plainly() -> None:
    async def odd() -> AsyncIterator[tuple]:
        yield (
            '=HYPERLINK("http://x")',
            "+1",
            "-2",
            "@SUM(A1)",
            None,
            ["1", "F"],
            {"b": 1, "a": "两"},
            datetime(2017, 3, 1, 9, tzinfo=timezone(timedelta(hours=8))),
            -3,
        )

    body = b"".join([chunk async for chunk in csv_chunks(list("abcdefghi"), odd())]).decode("utf-8").removeprefix(BOM)
    (_, row) = list(csv.reader(io.StringIO(body)))
    assert row == ['\'=HYPERLINK("http://x")', "'+1", "'-2", "'@SUM(A1)", "", "1 F", '{"a": "两", "b": 1}', "2017-03-01T01:00:00+00:00", "-3"]


async def test_an_empty_export_is_the_header_alone() -> None:
    chunks = [chunk async for chunk in csv_chunks(["a"], numbered(0))]
    assert chunks == [(BOM + "a\r\n").encode()]
