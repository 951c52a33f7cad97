"""Reading the CSV files people upload (orders, catalogues): UTF-8 (with or without BOM), comma,
semicolon or tab separated, a header row naming the columns. The header is checked against the
import's columns before any row is read; rows keep their line number (the header is row 1) so
every refusal can say where."""

from __future__ import annotations

import csv
import io

Row = tuple[int, dict[str, str], str | None]  # line number, {column: value}, problem
Problem = tuple[int, str | None, str]  # line number, column, message


def column_name(text: str) -> str:
    """How a header cell is read: trimmed, lower case, spaces as underscores."""
    return text.strip().lower().replace(" ", "_")


def read_csv(
    data: bytes, columns: tuple[str, ...], required: tuple[str, ...], *, max_rows: int | None = None
) -> tuple[list[Row], list[Problem]]:
    """The data rows, or the problems that refuse the whole file (encoding, header, size)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return [], [(1, None, f"the file is not UTF-8 text (byte {error.start + 1} is not)")]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return [], [(line, None, "the file holds a NUL character, which no text may")]
    first_line = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return [], [(1, None, "the file is empty")]
    except csv.Error as error:
        return [], [(1, None, f"unreadable CSV: {error}")]
    names = [column_name(name) for name in header]
    problems: list[Problem] = [
        (1, name, f"unknown column {name!r}; the columns are {', '.join(columns)}")
        for name in names
        if name not in columns
    ]
    problems += [
        (1, name, f"the column {name!r} is missing") for name in required if name not in names
    ]
    if not problems and len(set(names)) != len(names):
        repeated = next(name for name in names if names.count(name) > 1)
        problems.append((1, repeated, f"the column {repeated!r} appears twice"))
    if problems:
        return [], problems
    rows: list[Row] = []
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            return [], [(reader.line_num, None, f"unreadable CSV: {error}")]
        if not any(value.strip() for value in values):
            continue
        if max_rows is not None and len(rows) >= max_rows:
            return [], [
                (
                    reader.line_num,
                    None,
                    f"the file has more than {max_rows:,} rows; split it into files of at most "
                    f"{max_rows:,}",
                )
            ]
        problem = None
        if len(values) > len(names):
            problem = f"{len(values)} values for {len(names)} columns"
        rows.append(
            (
                reader.line_num,
                {name: value.strip() for name, value in zip(names, values, strict=False)},
                problem,
            )
        )
    return rows, []
