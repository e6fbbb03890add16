"""Reading the CSV files operators hand to the import commands (prices, recipients)."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path


def csv_rows(path: Path, required: Sequence[str], error: type[Exception]) -> Iterator[tuple[int, dict]]:
    """Yield (line number, row) of a UTF-8 CSV with a header line.

    Raises `error`, naming the file (and the line), when the file cannot be read, a required column is
    missing, or a row has more fields than the header has columns.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise error(f"cannot read {path}: {exc.strerror}") from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in required if c not in (reader.fieldnames or [])]
    if missing:
        raise error(f"{path} line 1: missing column(s) {', '.join(missing)}")
    for row in reader:
        if None in row:
            raise error(f"{path} line {reader.line_num}: more fields than columns")
        yield reader.line_num, row
