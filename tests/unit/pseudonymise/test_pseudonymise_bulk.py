"""Streaming CSV bulk pseudonymisation."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pseudonymise import (
    Bsn,
    BulkInputError,
    BulkResult,
    DomainPseudonymiser,
    KeyRing,
    PseudonymiseError,
    generate_valid_bsns,
    pseudonymise_csv,
)

DOMAIN = "pseudonym:00000001001234567000"
PSEUDONYMISER = DomainPseudonymiser(KeyRing({1: bytes(range(32))}))
GOOD = list(generate_valid_bsns(5, seed=42))
DIGITS = "0123456789"


def elfproef(value: str) -> bool:
    """Independent reference check (see test_pseudonymise_bsn for its derivation)."""
    if len(value) != 9 or any(c not in DIGITS for c in value):
        return False
    total = sum(DIGITS.index(c) * w for c, w in zip(value, [9, 8, 7, 6, 5, 4, 3, 2, -1]))
    return total % 11 == 0 and total != 0


def run(
    text: str, column: str = "bsn", newline: str = "", **kwargs: object
) -> tuple[BulkResult, str, str]:
    """Run the bulk job on ``text``; ``newline`` is how the source splits lines, as in open()."""
    target, rejects = io.StringIO(newline=""), io.StringIO(newline="")
    source = io.StringIO(text, newline=newline)
    result = pseudonymise_csv(source, target, rejects, column, DOMAIN, PSEUDONYMISER, **kwargs)
    return result, target.getvalue(), rejects.getvalue()


def rows(text: str, delimiter: str = ",") -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def test_good_rows_are_pseudonymised_and_bad_rows_rejected() -> None:
    assert all(elfproef(g) for g in GOOD)
    assert not elfproef("123456789")
    text = (
        "leerling,bsn,school\r\n"  # line 1
        f"1,{GOOD[0]},A\r\n"  # line 2
        "2,123456789,B\r\n"  # line 3: fails the elfproef
        f"3,{GOOD[1]},C\r\n"  # line 4
        "4,,D\r\n"  # line 5: empty
        "5,12345678,E\r\n"  # line 6: eight digits
        f"6,{GOOD[2]},F\r\n"  # line 7
    )
    result, out, rej = run(text)

    assert result == BulkResult(rows_in=6, rows_out=3, rows_rejected=3, rejected_lines=[3, 5, 6])
    out_rows = rows(out)
    assert out_rows[0] == ["leerling", "pseudonym", "school"]
    assert [r[0] for r in out_rows[1:]] == ["1", "3", "6"]
    assert [r[2] for r in out_rows[1:]] == ["A", "C", "F"]
    revealed = [PSEUDONYMISER.reveal(r[1], DOMAIN) for r in out_rows[1:]]
    assert revealed == [Bsn(GOOD[0]), Bsn(GOOD[1]), Bsn(GOOD[2])]
    assert not any(g in out for g in GOOD)  # no BSN left in the output

    assert rej == (
        "line,reason,leerling,school\r\n"
        "3,invalid_bsn,2,B\r\n"
        "5,invalid_bsn,4,D\r\n"
        "6,invalid_bsn,5,E\r\n"
    )
    assert "123456789" not in rej and "12345678" not in rej


def test_output_lines_and_header_format() -> None:
    _, out, _ = run(f"bsn\n{GOOD[0]}\n")
    expected = PSEUDONYMISER.pseudonymise(Bsn(GOOD[0]), DOMAIN)
    assert out == f"pseudonym\r\n{expected}\r\n"


def test_line_numbers_count_physical_lines_of_multiline_and_blank_records() -> None:
    text = (
        "bsn,note\n"  # 1
        f'{GOOD[0]},"two\nlines"\n'  # 2-3
        "\n"  # 4: blank, skipped
        'bad,"three\r\nphysical\nlines"\n'  # 5-7
        "111222334,plain\n"  # 8
        f'"{GOOD[1]}","quoted, with comma"\n'  # 9
        "x,y,z\n"  # 10: too many fields
    )
    result, out, rej = run(text)
    assert result.rows_in == 5
    assert result.rows_out == 2
    assert result.rejected_lines == [5, 8, 10]
    assert rows(rej) == [
        ["line", "reason", "note"],
        ["5", "invalid_bsn", "three\r\nphysical\nlines"],
        ["8", "invalid_bsn", "plain"],
        ["10", "invalid_row", ""],
    ]
    out_rows = rows(out)
    assert [r[1] for r in out_rows] == ["note", "two\nlines", "quoted, with comma"]
    assert PSEUDONYMISER.reveal(out_rows[2][0], DOMAIN) == Bsn(GOOD[1])


def test_misaligned_rows_are_rejected_without_any_of_their_fields() -> None:
    text = f"a,bsn,c\n{GOOD[0]},x\n1,{GOOD[1]},3,4\n"
    result, out, rej = run(text)
    assert result.rows_rejected == 2 and result.rejected_lines == [2, 3]
    assert rows(rej)[1:] == [["2", "invalid_row", "", ""], ["3", "invalid_row", "", ""]]
    assert GOOD[0] not in rej and GOOD[1] not in rej
    assert rows(out) == [["a", "pseudonym", "c"]]


def test_values_are_not_trimmed() -> None:
    result, _, _ = run(f"bsn,x\n {GOOD[0]},1\n{GOOD[0]} ,2\n")
    assert result.rows_rejected == 2


def test_semicolon_delimiter() -> None:
    text = f"naam;bsn\r\nA, B;{GOOD[0]}\r\nC;000000000\r\n"
    result, out, rej = run(text, delimiter=";")
    assert result.rows_out == 1 and result.rejected_lines == [3]
    out_rows = rows(out, ";")
    assert out_rows[0] == ["naam", "pseudonym"]
    assert out_rows[1][0] == "A, B"
    assert PSEUDONYMISER.reveal(out_rows[1][1], DOMAIN) == Bsn(GOOD[0])
    assert rej == "line;reason;naam\r\n3;invalid_bsn;C\r\n"


def test_files_on_disk(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(f"bsn,x\r\n{GOOD[0]},1\r\nnope,2\r\n", encoding="utf-8", newline="")
    with (
        source.open(newline="", encoding="utf-8") as src,
        (tmp_path / "out.csv").open("w", newline="", encoding="utf-8") as out,
        (tmp_path / "rej.csv").open("w", newline="", encoding="utf-8") as rej,
    ):
        result = pseudonymise_csv(src, out, rej, "bsn", DOMAIN, PSEUDONYMISER)
    assert (result.rows_in, result.rows_out, result.rejected_lines) == (2, 1, [3])
    written = (tmp_path / "out.csv").read_bytes().decode("utf-8")
    assert GOOD[0] not in written
    rejected = (tmp_path / "rej.csv").read_bytes().decode("utf-8")
    assert rejected == "line,reason,x\r\n3,invalid_bsn,2\r\n"


# --- errors -----------------------------------------------------------------------------------


def test_missing_column_names_the_column() -> None:
    with pytest.raises(BulkInputError) as info:
        run("burgerservicenummer,x\n123456782,1\n", column="bsn")
    assert info.value.code == "invalid_input"
    assert isinstance(info.value, PseudonymiseError)
    assert "'bsn'" in str(info.value)
    assert "123456782" not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        "",  # no header at all
        "bsn,bsn\n123456782,123456782\n",  # ambiguous column
        "bsn,pseudonym\n123456782,x\n",  # output would have two 'pseudonym' columns
    ],
)
def test_unusable_headers_are_refused(text: str) -> None:
    with pytest.raises(BulkInputError):
        run(text)


def test_a_file_without_header_does_not_leak_its_first_row() -> None:
    with pytest.raises(BulkInputError) as info:
        run("123456782,Jansen\n111222333,de Vries\n")
    assert "123456782" not in str(info.value) and "Jansen" not in str(info.value)


def test_broken_quoting_stops_the_run_with_the_line() -> None:
    with pytest.raises(BulkInputError) as info:
        run(f'bsn,x\n{GOOD[0]},1\n{GOOD[1]},"unterminated\n{GOOD[2]},3\n')
    assert "line 3" in str(info.value)
    assert GOOD[1] not in str(info.value)


def test_a_bare_carriage_return_in_an_unquoted_field_is_refused_like_csv_does() -> None:
    # A source that splits lines on "\n" only (not opened with newline="") hands over a bare
    # "\r" inside a line; csv.reader refuses that, and so does the fast path.
    with pytest.raises(BulkInputError) as info:
        run(f"bsn,x\n{GOOD[0]},a\rb\n", newline="\n")
    assert "line 2" in str(info.value)


def test_a_bad_domain_fails_before_anything_is_written() -> None:
    target, rejects = io.StringIO(), io.StringIO()
    with pytest.raises(ValueError):
        pseudonymise_csv(
            io.StringIO(f"bsn\n{GOOD[0]}\n"), target, rejects, "bsn", "payload", PSEUDONYMISER
        )
    assert target.getvalue() == "" and rejects.getvalue() == ""


# --- progress, caps, streaming -------------------------------------------------------------


def test_progress_is_reported_every_n_rows_and_at_the_end() -> None:
    lines = ["bsn"] + [GOOD[i % 5] if i % 4 else "bad" for i in range(25)]
    calls: list[int] = []
    result, _, _ = run("\n".join(lines) + "\n", progress=calls.append, progress_every=10)
    assert calls == [10, 20, 25]
    assert result.rows_in == 25 and result.rows_rejected == 7


def test_rejected_lines_are_capped_but_counts_are_exact() -> None:
    text = "bsn\n" + "bad\n" * 1205 + f"{GOOD[0]}\n"
    result, _, rej = run(text)
    assert result.rows_rejected == 1205
    assert result.rejected_lines == list(range(2, 1002))
    assert len(rows(rej)) == 1206  # header + every rejected row
    assert result.rows_out == 1


class CountingSource:
    """A lazily generated input that records how much of itself has been read."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.consumed = 0

    def __iter__(self) -> Iterator[str]:
        yield "id,bsn\r\n"
        for i, digits in enumerate(generate_valid_bsns(self.n, seed=5)):
            self.consumed = i + 1
            yield f"{i},{digits}\r\n"


class RecordingTarget(io.StringIO):
    def __init__(self, source: CountingSource) -> None:
        super().__init__()
        self.source = source
        self.consumed_at_write: list[int] = []

    def write(self, text: str) -> int:
        self.consumed_at_write.append(self.source.consumed)
        return super().write(text)


def test_output_is_streamed_while_input_is_read() -> None:
    source = CountingSource(30_000)
    target = RecordingTarget(source)
    result = pseudonymise_csv(source, target, io.StringIO(), "bsn", DOMAIN, PSEUDONYMISER)  # type: ignore[arg-type]
    assert result.rows_out == 30_000
    # Written in many batches, each soon after its rows were read, never all at the end.
    data_writes = target.consumed_at_write[1:]
    assert len(data_writes) >= 10
    assert data_writes[0] < 5_000
    assert max(b - a for a, b in zip(data_writes, data_writes[1:])) < 5_000


# --- equivalence with a plain csv-module implementation ------------------------------------

field_text = st.text(
    alphabet=st.sampled_from(list("ab ,;\"\r\n\t'é1") + [c for c in DIGITS]), max_size=12
)


@st.composite
def tables(draw: st.DrawFn) -> tuple[list[str], int, list[list[str]], str]:
    delimiter = draw(st.sampled_from([",", ";"]))
    others = draw(
        st.lists(
            field_text.filter(lambda s: s not in ("bsn", "pseudonym")),
            max_size=3,
            unique=True,
        )
    )
    index = draw(st.integers(0, len(others)))
    header = others[:index] + ["bsn"] + others[index:]
    bsn_values = st.one_of(
        st.sampled_from(GOOD), st.sampled_from(["123456789", "", " 111222333", "x"]), field_text
    )
    body = []
    for _ in range(draw(st.integers(0, 8))):
        if draw(st.integers(0, 9)) == 0:  # occasionally a misaligned row
            body.append(draw(st.lists(field_text, min_size=1, max_size=5)))
        else:
            row = [draw(field_text) for _ in others]
            row.insert(index, draw(bsn_values))
            body.append(row)
    return header, index, body, delimiter


def reference_run(text: str, index: int, delimiter: str, newline: str) -> tuple[str, str, int]:
    """What the bulk job must produce, computed with csv.reader/csv.writer and the public API."""
    reader = csv.reader(io.StringIO(text, newline=newline), delimiter=delimiter)
    header = next(reader)
    out, rej = io.StringIO(), io.StringIO()
    out_writer = csv.writer(out, delimiter=delimiter)
    rej_writer = csv.writer(rej, delimiter=delimiter)
    renamed = list(header)
    renamed[index] = "pseudonym"
    out_writer.writerow(renamed)
    rej_writer.writerow(["line", "reason"] + header[:index] + header[index + 1 :])
    previous_end, rows_in = reader.line_num, 0
    for row in reader:
        start, previous_end = previous_end + 1, reader.line_num
        if not row:
            continue
        rows_in += 1
        if len(row) != len(header):
            rej_writer.writerow([start, "invalid_row"] + [""] * (len(header) - 1))
        elif elfproef(row[index]):
            row[index] = PSEUDONYMISER.pseudonymise(Bsn(row[index]), DOMAIN)
            out_writer.writerow(row)
        else:
            rej_writer.writerow([start, "invalid_bsn"] + row[:index] + row[index + 1 :])
    return out.getvalue(), rej.getvalue(), rows_in


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables(), st.sampled_from(["\r\n", "\n"]), st.booleans(), st.sampled_from(["", "\n"]))
def test_matches_a_plain_csv_module_implementation(
    table: tuple[list[str], int, list[list[str]], str],
    line_end: str,
    blank_lines: bool,
    source_newline: str,
) -> None:
    header, index, body, delimiter = table
    if line_end == "\n":
        # csv.writer only quotes line-break characters that occur in its terminator, so with
        # "\n" a bare "\r" would be written unquoted and the input itself would be ambiguous.
        header = [f.replace("\r", "") for f in header]
        body = [[f.replace("\r", "") for f in row] for row in body]
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=line_end)
    writer.writerow(header)
    for row in body:
        writer.writerow(row)
        if blank_lines:
            buffer.write(line_end)
    text = buffer.getvalue()

    result, out, rej = run(text, newline=source_newline, delimiter=delimiter)
    expected_out, expected_rej, rows_in = reference_run(text, index, delimiter, source_newline)

    assert out == expected_out
    assert rej == expected_rej
    assert result.rows_in == rows_in
    assert result.rows_out + result.rows_rejected == rows_in
    assert result.rows_out == len(rows(out, delimiter)) - 1
