"""Checkpoints that let an interrupted ``curate scan`` of a large tree resume where it stopped.

Files are read in blocks of :data:`BLOCK`. Each finished block is saved, *after* pseudonymisation, to the
hidden folder ``.<OUT>.partial`` next to the output folder, as JSON: metadata rows (keyed pseudonyms, never
raw identifiers) and the audit's per-file flags (indices and counts, never values). A block is reused only
when its signature matches: the same relative paths, sizes and modification times, the same pseudonym key
and context, the same scanned folder and format version; anything else is read again. The folder is removed
once the outputs are in place.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

#: Files per checkpoint block.
BLOCK = 1024
FORMAT = "curate-scan-checkpoint-1"


def partial_folder(out: Path) -> Path:
    return out.parent / f".{out.name}.partial"


class Checkpoint:
    """Saved blocks of one scan (``salt`` ties them to the key, context and folder that made them)."""

    def __init__(self, folder: Path, salt: str) -> None:
        self.folder, self.salt = folder, salt
        self.resumed = 0

    def _signature(self, block: list[tuple[str, str]]) -> str:
        h = hashlib.sha256(f"{FORMAT}\x00{self.salt}\x00".encode())
        for path, rel in block:
            try:
                st = os.stat(path)
                h.update(f"{rel}\x00{st.st_size}\x00{st.st_mtime_ns}\x00".encode())
            except OSError:
                h.update(f"{rel}\x00missing\x00".encode())
        return h.hexdigest()

    def _file(self, start: int, block: list[tuple[str, str]]) -> Path:
        return self.folder / f"{start:010d}-{self._signature(block)[:24]}.json"

    def load(self, start: int, block: list[tuple[str, str]]) -> list[dict[str, Any]] | None:
        f = self._file(start, block)
        try:
            records = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(records, list) or len(records) != len(block):
            return None
        self.resumed += len(records)
        return records

    def save(self, start: int, block: list[tuple[str, str]], records: list[dict[str, Any]]) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        f = self._file(start, block)
        tmp = f.with_suffix(".tmp")
        try:
            tmp.write_text(json.dumps(records), encoding="utf-8")
            os.replace(tmp, f)  # a block is either whole or absent
        except BaseException:  # a full disk or a signal: no half-written block stays behind
            tmp.unlink(missing_ok=True)
            if not any(self.folder.iterdir()):
                self.folder.rmdir()
            raise

    def clear(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
