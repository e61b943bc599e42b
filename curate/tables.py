"""Reading the user's tables (metadata, predictions, country lists) with one set of checks and messages.

Every command that takes a CSV / TSV / parquet / JSON-lines file goes through :func:`read_table`, so a
missing, empty, unreadable or malformed file always gives the same one-line error, whichever command
read it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from curate.errors import InputError, UsageError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

#: Delimited-text suffixes and their separators.
SEPARATORS = {".csv": ",", ".txt": ",", ".tsv": "\t", ".tab": "\t"}
PARQUET = (".parquet", ".pq")
JSON_LINES = (".jsonl", ".ndjson")
SUPPORTED = (*SEPARATORS, *PARQUET, *JSON_LINES, ".json")


def _separator(p: Path, default: str) -> str:
    """The delimiter of a .csv: ``,`` unless its header line has no comma but semicolons (the CSV that
    spreadsheets write in locales whose decimal mark is a comma), then ``;``; .tsv keeps its tab."""
    if default != ",":
        return default
    with open(p, "rb") as f:
        head = f.readline(1 << 16)
    return ";" if b"," not in head and b";" in head else default


def read_table(
    source: Any,
    *,
    what: str = "metadata",
    text: bool = False,
    empty_as_na: bool = True,
) -> pd.DataFrame:
    """Read ``source`` (a path or an in-memory DataFrame) into a DataFrame with string column names.

    ``text=True`` reads delimited files as strings, so ids such as ``00123`` keep their leading zeros;
    ``empty_as_na=False`` then keeps empty cells as ``""`` instead of missing values.
    ``what`` names the file in error messages (``metadata``, ``predictions``, ``input``).
    """
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        return source.reset_index(drop=True)
    p = Path(os.fspath(source))
    if not p.exists():
        broken = " (a broken symbolic link)" if p.is_symlink() else ""
        raise InputError(f"{what} file '{p}' does not exist{broken}")
    if p.is_dir():
        raise InputError(f"{what} file '{p}' is a folder, not a file")
    if p.stat().st_size == 0:
        raise InputError(f"{what} file '{p}' is empty")
    suffix = p.suffix.lower()
    if suffix not in SUPPORTED:
        raise UsageError(
            f"{what} file '{p}': use a .csv, .tsv, .parquet or .jsonl file (got '{suffix or p.name}')"
        )
    csv_kw: dict[str, Any] = {"dtype": str, "keep_default_na": empty_as_na} if text else {"low_memory": False}
    try:
        if suffix in PARQUET:
            df = pd.read_parquet(p)
        elif suffix in JSON_LINES:
            df = pd.read_json(p, lines=True, dtype=False)
        elif suffix == ".json":
            df = pd.read_json(p, dtype=False)
        else:
            sep = _separator(p, SEPARATORS[suffix])
            try:
                df = pd.read_csv(p, sep=sep, **csv_kw)
            except UnicodeDecodeError:  # Excel-exported CSVs are often Latin-1
                df = pd.read_csv(p, sep=sep, encoding="latin-1", **csv_kw)
    except pd.errors.EmptyDataError:
        raise InputError(f"{what} file '{p}' is empty") from None
    except Exception as exc:  # parser / arrow / OS errors: one line, no cell contents echoed
        reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
        kind = "parquet" if suffix in PARQUET else "JSON" if suffix in (*JSON_LINES, ".json") else "CSV"
        raise InputError(f"cannot read {what} file '{p}' as {kind}: {reason}") from None
    if len(df.columns) == 0 or len(df) == 0:
        raise InputError(f"{what} file '{p}' has no data rows")
    df.columns = [str(c).strip() for c in df.columns]
    if len(set(df.columns)) != len(df.columns):
        raise InputError(f"{what} file '{p}' has duplicate column names")
    return df.reset_index(drop=True)
