"""Lookup tables given as CSV text or as a flat row-major list (a Processing matrix).

Land-cover tables (P factor, HAI/BAI/ECO weights, CASA ε_max) and AHP matrices arrive either as
a CSV file or as a matrix typed into the Toolbox or the Modeler. Both become a list of rows
(dicts keyed by column name) here, with errors that say which row and column are wrong.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence


class TableError(ValueError):
    """A malformed table; the message names the row and column."""


def _number(text, row: int, column: str) -> float:
    try:
        value = float(str(text).strip())
    except ValueError:
        raise TableError(f"row {row}, column '{column}': '{text}' is not a number") from None
    if not math.isfinite(value):
        raise TableError(f"row {row}, column '{column}': '{text}' is not a finite number")
    return value


def _typed_rows(
    records: Sequence[Sequence[str]],
    header: Sequence[str],
    columns: Sequence[str],
    numeric: Sequence[str],
    first_row: int,
) -> list[dict]:
    lower = [h.strip().lower() for h in header]
    missing = [c for c in columns if c.lower() not in lower]
    if missing:
        raise TableError(
            f"missing column(s) {', '.join(missing)}; the table has {', '.join(header) or 'none'}"
        )
    index = {c: lower.index(c.lower()) for c in columns}
    rows = []
    for offset, record in enumerate(records):
        number = first_row + offset
        if not any(str(cell).strip() for cell in record):
            continue
        if len(record) < len(header):
            raise TableError(f"row {number}: {len(record)} value(s) for {len(header)} column(s)")
        row = {}
        for column in columns:
            cell = record[index[column]]
            row[column] = _number(cell, number, column) if column in numeric else str(cell).strip()
        rows.append(row)
    if not rows:
        raise TableError("the table has no rows")
    return rows


def parse_csv_table(text: str, columns: Sequence[str], numeric: Sequence[str] = ()) -> list[dict]:
    """Rows of a CSV table with a header line (comma or semicolon separated; lines starting
    with '#' are comments). ``columns`` must be present (any case, any order, extra columns
    ignored); ``numeric`` columns are parsed as floats."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    if not lines:
        raise TableError("the table is empty")
    dialect = ";" if lines[0].count(";") > lines[0].count(",") else ","
    records = list(csv.reader(io.StringIO("\n".join(lines)), delimiter=dialect))
    header, body = records[0], records[1:]
    return _typed_rows(body, header, columns, numeric, first_row=2)


def matrix_rows(
    values: Sequence, columns: Sequence[str], numeric: Sequence[str] = ()
) -> list[dict]:
    """Rows of a flat, row-major list with one value per column and row (a Processing matrix
    parameter with the headers ``columns``)."""
    values = list(values)
    width = len(columns)
    if not values:
        raise TableError("the table has no rows")
    if len(values) % width:
        raise TableError(
            f"{len(values)} value(s) do not fill rows of {width} column(s) ({', '.join(columns)})"
        )
    records = [values[i : i + width] for i in range(0, len(values), width)]
    return _typed_rows(records, columns, columns, numeric, first_row=1)


def lookup_codes(rows: Sequence[dict], code_column: str, value_column: str) -> dict[int, float]:
    """{class code: value} from table rows; codes must be whole numbers and unique."""
    table: dict[int, float] = {}
    for number, row in enumerate(rows, start=1):
        code = row[code_column]
        if float(code) != int(float(code)):
            raise TableError(f"row {number}: class code {code} is not a whole number")
        key = int(float(code))
        if key in table:
            raise TableError(f"row {number}: class code {key} appears twice")
        table[key] = float(row[value_column])
    return table
