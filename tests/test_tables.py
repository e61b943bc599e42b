"""One reader for every user table: formats, text mode, and its one-line errors."""

from __future__ import annotations

import pandas as pd
import pytest

from curate.errors import InputError, UsageError
from curate.tables import read_table


@pytest.fixture
def frame():
    return pd.DataFrame({"image_id": ["00123", "00456"], "age": [61, 70], "sex": ["F", ""]})


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".jsonl"])
def test_formats_round_trip(tmp_path, frame, suffix):
    p = tmp_path / f"t{suffix}"
    if suffix == ".parquet":
        frame.to_parquet(p)
    elif suffix == ".jsonl":
        frame.to_json(p, orient="records", lines=True)
    else:
        frame.to_csv(p, sep="\t" if suffix == ".tsv" else ",", index=False)
    out = read_table(p, text=True, empty_as_na=False)
    assert list(out.columns) == ["image_id", "age", "sex"]
    assert out["image_id"].tolist() == ["00123", "00456"]  # leading zeros kept in text mode
    assert out["sex"].fillna("").tolist() == ["F", ""]


def test_typed_mode_and_latin1(tmp_path):
    p = tmp_path / "t.csv"
    p.write_bytes("nationality,age\nS\xe3o Tom\xe9,5\n".encode("latin-1"))
    out = read_table(p)
    assert out["nationality"].item() == "São Tomé" and out["age"].item() == 5


def test_dataframe_passthrough(frame):
    assert read_table(frame.set_index("image_id")).index.tolist() == [0, 1]


@pytest.mark.parametrize(
    ("make", "exc", "message"),
    [
        (lambda d: d / "missing.csv", InputError, "metadata file '.*missing.csv' does not exist"),
        (lambda d: d, InputError, "is a folder, not a file"),
        (lambda d: (d / "e.csv").write_text("") or d / "e.csv", InputError, "is empty"),
        (lambda d: (d / "h.csv").write_text("a,b\n") and d / "h.csv", InputError, "has no data rows"),
        (lambda d: (d / "x.xlsx").write_text("x") and d / "x.xlsx", UsageError, "use a .csv, .tsv"),
        (lambda d: (d / "b.parquet").write_text("junk") and d / "b.parquet", InputError,
         "cannot read metadata file .* as parquet"),
    ],
)
def test_errors_are_one_line(tmp_path, make, exc, message):
    path = make(tmp_path)
    with pytest.raises(exc, match=message) as info:
        read_table(path)
    assert "\n" not in str(info.value)


def test_duplicate_columns_rejected(tmp_path):
    q = tmp_path / "dup.tsv"
    q.write_text("a\ta \n1\t2\n")  # names equal after stripping spaces
    with pytest.raises(InputError, match="duplicate column names"):
        read_table(q, what="predictions")
