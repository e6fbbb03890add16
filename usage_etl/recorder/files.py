"""Append whole lines to the day's raw log file, safely from many threads and processes."""
from __future__ import annotations

import logging
import os
import re
import socket
import threading
from datetime import date
from pathlib import Path

logger = logging.getLogger("usage_etl.recorder")

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_name_part(text: str) -> str:
    """Make `text` safe inside a file name (letters, digits, `.`, `_`, `-`)."""
    return _UNSAFE.sub("-", text).strip("-.") or "x"


class DailyJsonlFiles:
    """Append lines to `<root>/YYYY/MM/DD/<writer>-<tag>.jsonl`.

    Each line goes out in one `os.write` on an `O_APPEND` descriptor, so lines from several
    processes appending to the same file never interleave; a lock keeps this process's threads
    in turn. A failure to write (disk full, folder not writable) is logged, never raised.
    """

    def __init__(self, root: Path | str, writer: str = "chatbot", tag: str | None = None) -> None:
        self.root = Path(root)
        self.file_name = f"{file_name_part(writer)}-{file_name_part(tag or socket.gethostname())}.jsonl"
        self.failed_writes = 0
        self._lock = threading.Lock()
        # Files where a write stopped half way: the next line starts with a newline so it is not glued to the torn one.
        self._torn: set[Path] = set()

    def path_for(self, day: date) -> Path:
        """Return the file that lines logged on `day` (UTC) go to."""
        return self.root / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / self.file_name

    def append(self, day: date, line: bytes) -> bool:
        """Append one complete line (ending in a newline) to the file of `day`; say whether it was written."""
        path = self.path_for(day)
        with self._lock:
            data = b"\n" + line if path in self._torn else line
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)
            except OSError as exc:
                return self._failed(path, exc)
            try:
                written = os.write(fd, data)
                while written < len(data):  # a short write: finish the line rather than leave half of it
                    self._torn.add(path)
                    step = os.write(fd, data[written:])
                    if step == 0:
                        raise OSError(f"wrote {written} of {len(data)} bytes")
                    written += step
                self._torn.discard(path)
                return True
            except OSError as exc:
                return self._failed(path, exc)
            finally:
                os.close(fd)

    def _failed(self, path: Path, exc: OSError) -> bool:
        self.failed_writes += 1
        logger.error("usage log line not written to %s: %s (the API call itself went on)", path, exc)
        return False
