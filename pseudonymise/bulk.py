"""Streaming bulk pseudonymisation of CSV files (the ``gateway pseudonymise`` command).

Why streaming: partners hand in exports of a whole municipality or region (a million rows is
normal). Lines are read and output is written in batches, so memory stays constant whatever
the size of the file.

Output format: the same columns in the same order, with the BSN column *renamed* to
``pseudonym`` and its value replaced by the pseudonym. Renaming makes the output
self-describing: a column called ``bsn`` that holds no BSN would invite mistakes downstream.
Output lines end in ``\\r\\n`` and fields are quoted only where needed, as ``csv.writer``
does.

Rows whose BSN is invalid go to the rejects file with the columns ``line`` (the 1-based
physical line of the input where the record starts; the header is line 1, and a quoted field
with embedded newlines makes a record span several lines), ``reason`` and the remaining input
columns. The invalid value itself is *never* copied: it may be a mistyped real BSN. Reasons:

- ``invalid_bsn``: the value is not nine ASCII digits passing the elfproef (values are not
  trimmed: `` 123456782`` is refused, so what is accepted is exactly what was sent);
- ``invalid_row``: the record has a different number of fields than the header; since the
  BSN could then be in any field, only ``line`` and ``reason`` are written.

Empty lines are skipped and not counted. Open files with ``newline=""`` (as the ``csv``
module requires) so that line numbers and embedded newlines come out right.

Parsing: a line without a double quote is split on the delimiter directly, which gives
exactly what ``csv.reader`` gives for such a line at a fraction of the cost; a line with a
quote (a quoted field, possibly spanning lines) is handed to ``csv.reader`` (strict mode, so
broken quoting stops the run instead of swallowing the rest of the file into one field).
``csv.DictReader`` is not used: a dict per row costs throughput, and it silently pads short
rows and gathers surplus fields, where a misaligned row must be rejected instead.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TextIO

from pseudonymise.errors import BulkInputError, InvalidBsnError
from pseudonymise.pseudonym import DomainPseudonymiser

__all__ = [
    "MAX_REJECTED_LINES",
    "PSEUDONYM_COLUMN",
    "REASON_INVALID_BSN",
    "REASON_INVALID_ROW",
    "BulkResult",
    "pseudonymise_csv",
]

PSEUDONYM_COLUMN = "pseudonym"
REASON_INVALID_BSN = "invalid_bsn"
REASON_INVALID_ROW = "invalid_row"
#: ``BulkResult.rejected_lines`` keeps at most this many line numbers (the count is exact).
MAX_REJECTED_LINES = 1000

_QUOTE = '"'
_LINE_END = "\r\n"
_BATCH_ROWS = 2000


@dataclass
class BulkResult:
    """Counts of one bulk run. ``rows_in == rows_out + rows_rejected``."""

    rows_in: int = 0
    rows_out: int = 0
    rows_rejected: int = 0
    #: Input line numbers of the first ``MAX_REJECTED_LINES`` rejected rows.
    rejected_lines: list[int] = field(default_factory=list)


def _ignore(_rows: int) -> None:
    """Progress callback used when the caller passed none."""


def _parse_quoted(first: str, lines: Iterator[str], delimiter: str) -> tuple[list[str], int]:
    """Parse the record starting at ``first`` with ``csv``; return its fields and line count.

    ``csv.reader`` pulls continuation lines from ``lines`` only while a quoted field is open,
    so the shared iterator continues right after this record.
    """
    reader = csv.reader(itertools.chain((first,), lines), delimiter=delimiter, strict=True)
    return next(reader), reader.line_num


def _row_formatter(delimiter: str) -> Callable[[list[str]], str]:
    """A function serialising one row like ``csv.writer`` does, without the line end."""
    scratch = io.StringIO()
    # The line terminator must be the real one: csv.writer decides whether a field containing
    # "\r" or "\n" needs quotes by looking for its characters in the terminator.
    writer = csv.writer(scratch, delimiter=delimiter, lineterminator=_LINE_END)
    end = -len(_LINE_END)

    def format_row(row: list[str]) -> str:
        scratch.seek(0)
        scratch.truncate()
        writer.writerow(row)
        return scratch.getvalue()[:end]

    return format_row


def pseudonymise_csv(
    source: TextIO,
    target: TextIO,
    rejects: TextIO,
    column: str,
    domain: str,
    pseudonymiser: DomainPseudonymiser,
    progress: Callable[[int], None] | None = None,
    progress_every: int = 10000,
    *,
    delimiter: str = ",",
) -> BulkResult:
    """Copy ``source`` to ``target`` with the BSNs in ``column`` replaced by ``domain`` pseudonyms.

    ``progress`` (if given) is called with the number of rows read so far after every
    ``progress_every`` rows, and once more at the end if the total is not a multiple of it.
    ``delimiter`` is ``,`` by default; pass ``;`` for the Dutch-locale Excel export. Both
    outputs use the same delimiter.

    Raises ``BulkInputError`` (code ``invalid_input``) when there is no header, ``column`` is
    missing or appears twice, the header already has a ``pseudonym`` column, or the CSV
    cannot be parsed (then the outputs are incomplete and must be discarded). The error
    messages never quote input data.
    """
    if progress_every < 1:
        raise ValueError("progress_every must be at least 1")
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise ValueError("delimiter must be one character other than a quote or newline")
    lines = iter(source)
    first = next(lines, None)
    if first is None:
        raise BulkInputError("the input is empty; a header row is required")
    header, line_count = _read_record(first, lines, delimiter, 1)
    index = _bsn_index(header, column)
    issue = pseudonymiser.issuer(domain)  # fails on a bad domain before anything is written
    copier = _Copier(header, index, issue, delimiter)
    copier.write_headers(target, rejects)
    report = progress if progress is not None else _ignore
    result = copier.copy(lines, line_count, report, progress_every)
    if progress is not None and result.rows_in % progress_every != 0:
        progress(result.rows_in)
    return result


def _read_record(
    raw: str, lines: Iterator[str], delimiter: str, start: int
) -> tuple[list[str], int]:
    """Fields of the record starting at ``raw`` (line ``start``) and its number of lines (the
    slow path, also used for the header)."""
    try:
        return _parse_quoted(raw, lines, delimiter)
    except csv.Error:
        raise BulkInputError(f"malformed CSV in the record at line {start}") from None


def _bsn_index(header: list[str], column: str) -> int:
    """Where ``column`` is in the header; refused when absent, doubled, or when the output
    would get a second ``pseudonym`` column."""
    occurrences = header.count(column)
    if occurrences == 0:
        raise BulkInputError(f"column {column!r} is not in the header")
    if occurrences > 1:
        raise BulkInputError(f"column {column!r} appears more than once in the header")
    if column != PSEUDONYM_COLUMN and PSEUDONYM_COLUMN in header:
        raise BulkInputError(f"the header already has a {PSEUDONYM_COLUMN!r} column")
    return header.index(column)


class _Copier:
    """One run's layout (where the BSN is, which columns a reject keeps) and its row loop."""

    def __init__(
        self, header: list[str], index: int, issue: Callable[[str], str], delimiter: str
    ) -> None:
        self.header = header
        self.index = index
        self.width = len(header)
        self.kept = [i for i in range(self.width) if i != index]
        self.issue = issue
        self.delimiter = delimiter
        self.format_row = _row_formatter(delimiter)

    def write_headers(self, target: TextIO, rejects: TextIO) -> None:
        """The output's header (the BSN column renamed) and the rejects file's."""
        self.write = target.write
        out_header = list(self.header)
        out_header[self.index] = PSEUDONYM_COLUMN
        self.write(self.format_row(out_header) + _LINE_END)
        self.reject_row = csv.writer(rejects, delimiter=self.delimiter).writerow
        self.reject_row(["line", "reason", *(self.header[i] for i in self.kept)])

    def copy(
        self, lines: Iterator[str], line_count: int, report: Callable[[int], None], every: int
    ) -> BulkResult:
        """Every record after the header; ``line_count`` is the physical lines read so far."""
        delimiter, width, index, kept, issue = (
            self.delimiter, self.width, self.index, self.kept, self.issue
        )
        format_row, write, reject_row = self.format_row, self.write, self.reject_row
        blank_rest = [""] * len(kept)
        result = BulkResult()
        rejected_lines = result.rejected_lines
        rows_in = rows_out = 0
        batch: list[str] = []
        next_report = every  # one integer comparison per row instead of a modulo
        for raw in lines:
            start = line_count + 1
            body = raw.rstrip(_LINE_END)
            if _QUOTE in body or "\r" in body:
                fields, used = _read_record(raw, lines, delimiter, start)
                line_count += used
                quoted = True
            else:
                line_count = start
                if not body:
                    continue
                fields = body.split(delimiter)
                quoted = False
            rows_in += 1
            reject = None
            if len(fields) != width:
                reject = [start, REASON_INVALID_ROW, *blank_rest]
            else:
                try:
                    fields[index] = issue(fields[index])
                except InvalidBsnError:
                    reject = [start, REASON_INVALID_BSN, *(fields[i] for i in kept)]
                else:
                    batch.append(format_row(fields) if quoted else delimiter.join(fields))
                    rows_out += 1
                    if len(batch) >= _BATCH_ROWS:
                        batch.append("")
                        write(_LINE_END.join(batch))
                        batch.clear()
            if reject is not None:
                reject_row(reject)
                if len(rejected_lines) < MAX_REJECTED_LINES:
                    rejected_lines.append(start)
            if rows_in == next_report:
                report(rows_in)
                next_report += every
        if batch:
            batch.append("")
            write(_LINE_END.join(batch))
        result.rows_in, result.rows_out = rows_in, rows_out
        result.rows_rejected = rows_in - rows_out
        return result
