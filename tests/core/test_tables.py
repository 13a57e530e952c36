"""Lookup tables from CSV text or a flat matrix: rows, numbers and errors that point at the cell."""

import pytest

from mine_eco_plugin.core.tables import TableError, lookup_codes, matrix_rows, parse_csv_table


def test_csv_with_comments_semicolons_any_case_and_extra_columns():
    text = "# P factor\nCode;Name;P;note\n1;forest;1.0;x\n\n2;paddy;0.15;y\n"
    rows = parse_csv_table(text, ["code", "p"], numeric=["code", "p"])
    assert rows == [{"code": 1.0, "p": 1.0}, {"code": 2.0, "p": 0.15}]


def test_matrix_rows_are_row_major():
    rows = matrix_rows([1, "0.2", 5, 0.35], ["code", "weight"], numeric=["code", "weight"])
    assert rows == [{"code": 1.0, "weight": 0.2}, {"code": 5.0, "weight": 0.35}]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("code,p\n", "no rows"),
        ("code,weight\n1,2\n", "missing column"),
        ("code,p\n1,abc\n", "row 2, column 'p': 'abc' is not a number"),
        ("code,p\n1,nan\n", "not a finite number"),
        ("code,p\n1\n", "row 2: 1 value"),
    ],
)
def test_csv_errors_name_row_and_column(text, message):
    with pytest.raises(TableError, match=message):
        parse_csv_table(text, ["code", "p"], numeric=["code", "p"])


def test_matrix_that_does_not_fill_rows_is_an_error():
    with pytest.raises(TableError, match="3 value"):
        matrix_rows([1, 2, 3], ["code", "p"])


def test_lookup_codes_whole_and_unique():
    rows = [{"code": 1.0, "p": 0.5}, {"code": 2.0, "p": 1.0}]
    assert lookup_codes(rows, "code", "p") == {1: 0.5, 2: 1.0}
    with pytest.raises(TableError, match="appears twice"):
        lookup_codes(rows + [{"code": 2.0, "p": 0.1}], "code", "p")
    with pytest.raises(TableError, match="not a whole number"):
        lookup_codes([{"code": 1.5, "p": 0.1}], "code", "p")
