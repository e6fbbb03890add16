"""What rendering hands to delivery: one report, ready to save and to email."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RenderedReport:
    """One rendered report for one client (or `_all`, the operator) and one period.

    `email_html` references its charts as `cid:<name>`; `file_html` embeds the same charts as data URIs,
    so the saved file opens on its own. `images` maps each cid name to its PNG bytes.
    """

    kind: str  # 'daily' or 'weekly'
    period: str  # '2026-11-23' or '2026-W47'
    client_id: str  # a client id, or '_all' for the operator's report
    subject: str
    email_html: str
    file_html: str
    text: str
    images: dict[str, bytes] = field(default_factory=dict)
    html_path: Path | None = None  # where file_html was saved
    json_path: Path | None = None  # where the report's numbers were saved
