"""Find raw log files and read the complete lines not read before, from a saved byte offset.

A writer may be appending to a file while we read it: only bytes up to the last newline are taken,
so a half-written last line is left for a later run. Offsets of `.jsonl.gz` files count
decompressed bytes.
"""
from __future__ import annotations

import gzip
import hashlib
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

PARTITION_RE = re.compile(r"^(\d{4})/(\d{2})/(\d{2})/[^/]+\.jsonl(\.gz)?$")
HEAD_BYTES = 4096


class RawLogError(RuntimeError):
    """The raw-logs folder cannot be read; the message is one sentence for the operator."""


@dataclass(frozen=True)
class FileState:
    """What was read of one raw file: the byte after the last complete line, and lines so far."""

    read_offset: int = 0
    lines_read: int = 0
    head_hash: str | None = None


@dataclass(frozen=True)
class Chunk:
    """Complete lines read from one file in one go, and the state after them."""

    raw_file: str
    first_line: int  # 1-based number of the first line in `lines`
    lines: pa.Array  # the lines' text, line endings kept where the text is not copied (parsing ignores them)
    invalid_utf8: list[tuple[int, str]]  # (line number, text with replacement characters)
    state: FileState
    bytes_read: int


def partition_day(raw_file: str) -> date | None:
    """Return the day partition (YYYY/MM/DD) of a path relative to the raw-logs root."""
    m = PARTITION_RE.match(raw_file)
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def discover_files(root: Path, since: date | None = None, until: date | None = None) -> list[str]:
    """List raw log files under `root` (relative paths, sorted), optionally only day partitions in [since, until]."""
    if not root.is_dir():
        raise RawLogError(f"the raw-logs folder {root} does not exist or is not a folder")
    found = []
    try:
        candidates = sorted(root.glob("*/*/*/*.jsonl*"))
    except OSError as exc:
        raise RawLogError(f"cannot read the raw-logs folder {root}: {exc.strerror}") from exc
    for path in candidates:
        rel = path.relative_to(root).as_posix()
        day = partition_day(rel)
        if day is None or not path.is_file():
            continue
        if since and day < since or until and day > until:
            continue
        found.append(rel)
    return found


def head_hash(path: Path) -> str | None:
    """Fingerprint a file's first complete line, to notice a file that was replaced rather than appended to."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as fh:
            head = fh.read(HEAD_BYTES)
    except (OSError, EOFError, zlib.error):
        return None
    end = head.find(b"\n")
    return hashlib.sha256(head[: end + 1] if end >= 0 else head).hexdigest()[:32] if end >= 0 or len(head) == HEAD_BYTES else None


def read_chunks(root: Path, raw_file: str, state: FileState, max_bytes: int) -> Iterator[Chunk]:
    """Yield the complete unread lines of one file in chunks of about `max_bytes`."""
    path = root / raw_file
    current = head_hash(path)
    if state.head_hash is not None and current is not None and current != state.head_hash:
        # The prefix we fingerprinted changed: the file was replaced, so read it again from the start.
        state = FileState()
    if raw_file.endswith(".gz"):
        yield from _read_gzip(path, raw_file, state, max_bytes, current)
    else:
        yield from _read_plain(path, raw_file, state, max_bytes, current)


def _read_plain(path: Path, raw_file: str, state: FileState, max_bytes: int, fingerprint: str | None) -> Iterator[Chunk]:
    offset, lines_read = state.read_offset, state.lines_read
    with open(path, "rb") as fh:
        size = fh.seek(0, 2)
        if size < offset:  # truncated: a new file under the same name
            offset, lines_read = 0, 0
        fh.seek(offset)
        while True:
            data = fh.read(max_bytes)
            if not data:
                return
            end = data.rfind(b"\n")
            if end < 0:
                if len(data) < max_bytes:
                    return  # only a half-written line: leave it for a later run
                # one line longer than max_bytes: keep reading until its end
                more = _read_to_newline(fh)
                if more is None:
                    return
                data += more
                end = len(data) - 1
            fh.seek(offset + end + 1)
            chunk = _to_chunk(raw_file, data, end + 1, offset, lines_read, fingerprint)
            offset, lines_read = chunk.state.read_offset, chunk.state.lines_read
            yield chunk


def _read_to_newline(fh) -> bytes | None:
    parts = []
    while True:
        block = fh.read(1 << 20)
        if not block:
            return None
        i = block.find(b"\n")
        if i >= 0:
            parts.append(block[: i + 1])
            return b"".join(parts)
        parts.append(block)


def _read_gzip(path: Path, raw_file: str, state: FileState, max_bytes: int, fingerprint: str | None) -> Iterator[Chunk]:
    """Decompress as a stream; a gzip file still being written yields what is complete so far."""
    decomp = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
    skip = state.read_offset
    offset, lines_read = state.read_offset, state.lines_read
    pending = b""
    with open(path, "rb") as fh:
        while True:
            block = fh.read(1 << 20)
            if not block:
                break
            try:
                out = decomp.decompress(block)
                while decomp.eof and decomp.unused_data:  # concatenated gzip members
                    rest = decomp.unused_data
                    decomp = zlib.decompressobj(wbits=zlib.MAX_WBITS | 16)
                    out += decomp.decompress(rest)
            except zlib.error as exc:
                raise RawLogError(f"{raw_file}: not a readable gzip file ({exc})") from exc
            if skip:
                if len(out) <= skip:
                    skip -= len(out)
                    continue
                out, skip = out[skip:], 0
            pending += out
            if len(pending) >= max_bytes:
                end = pending.rfind(b"\n")
                if end >= 0:
                    chunk = _to_chunk(raw_file, pending, end + 1, offset, lines_read, fingerprint)
                    offset, lines_read = chunk.state.read_offset, chunk.state.lines_read
                    pending = pending[end + 1 :]
                    yield chunk
    end = pending.rfind(b"\n")
    if end >= 0:
        yield _to_chunk(raw_file, pending, end + 1, offset, lines_read, fingerprint)


def _to_chunk(raw_file: str, data: bytes, size: int, offset: int, lines_read: int, fingerprint: str | None) -> Chunk:
    """Split data[:size], which ends in a newline, into an Arrow array of lines, without copying the text."""
    ends = _newline_positions(data, size)
    n = len(ends)
    offsets = np.empty(n + 1, dtype=np.int64)
    offsets[0] = 0
    offsets[1:] = ends + 1
    lines = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))
    invalid: list[tuple[int, str]] = []
    try:
        lines.validate(full=True)
    except pa.ArrowInvalid:
        lines, invalid = _split_checking_utf8(memoryview(data)[:size], lines_read)
    state = FileState(offset + size, lines_read + n, fingerprint)
    return Chunk(raw_file, lines_read + 1, lines, invalid, state, size)


def _newline_positions(data: bytes, size: int) -> np.ndarray:
    """The positions of the newlines in data[:size]: bytes.find is memchr, faster than a vectorised compare."""
    positions = []
    find, add = data.find, positions.append
    at = find(b"\n", 0, size)
    while at >= 0:
        add(at)
        at = find(b"\n", at + 1, size)
    return np.array(positions, dtype=np.int64)


def _split_checking_utf8(complete: bytes | memoryview, lines_read: int) -> tuple[pa.Array, list[tuple[int, str]]]:
    """Split line by line, blanking lines that are not UTF-8 and setting them aside for the quarantine."""
    lines, invalid = [], []
    for i, raw in enumerate(bytes(complete).split(b"\n")[:-1]):
        try:
            lines.append(raw.decode("utf-8"))
        except UnicodeDecodeError:
            invalid.append((lines_read + i + 1, raw.decode("utf-8", errors="replace")))
            lines.append("")  # keeps the numbering; parsing skips blank lines
    return pa.array(lines, pa.large_string()), invalid


def chunk_to_arrow(chunk: Chunk) -> pa.Table:
    """Turn a chunk into the raw_lines table the parse step reads (raw_file, raw_line, line)."""
    n = len(chunk.lines)
    return pa.table(
        {
            "raw_file": pa.array([chunk.raw_file], pa.string()).take(np.zeros(n, dtype=np.int64)),
            "raw_line": pa.array(np.arange(chunk.first_line, chunk.first_line + n, dtype=np.int64)),
            "line": chunk.lines,
        }
    )
