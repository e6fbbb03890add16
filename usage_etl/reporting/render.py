"""Render a report's figures into HTML (email and file versions), plain text and charts, and save them with JSON."""
from __future__ import annotations

import base64
import json
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from pathlib import Path

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from usage_etl import TEMPLATES_DIR
from usage_etl.reporting import charts
from usage_etl.reporting.figures import OPERATOR
from usage_etl.reporting.formatting import decimal_text, format_change, format_count, format_local_time, format_usd
from usage_etl.reporting.labels import labels_for
from usage_etl.reporting.rendered import RenderedReport

CHART_NAMES = ("period_chart", "evolution_chart")


def template_environment(locale: str, tz: str, text: bool = False) -> Environment:
    """Build the Jinja2 environment, autoescaped for HTML (text: plain, newlines kept), with the number filters."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=not text),
        undefined=StrictUndefined,
        trim_blocks=not text,
        lstrip_blocks=True,
        keep_trailing_newline=text,
    )
    labels = labels_for(locale)
    env.filters.update({
        "usd": partial(format_usd, locale=locale),
        "num": lambda v, places=0: format_count(v, locale, places),
        "pct": lambda v: "—" if v is None else f"{format_count(v, locale, 1)}%",
        "change": lambda v: format_change(v, labels["new"], locale),
        "figure": lambda v, unit: (format_usd(v, locale) if unit == "usd"
                                   else format_count(v, locale, 1 if unit == "minutes" else 0)),
        "local_time": lambda v: format_local_time(v, tz),
    })
    return env


def draw_charts(figures: dict, labels: dict[str, str]) -> dict[str, bytes]:
    """Draw the report's two charts: cost per hour (daily) or per day (weekly) by provider, and 12 weeks."""
    if figures["kind"] == "daily":
        buckets, title = figures["by_hour"], labels["cost_per_hour"]
        names = [f"{b['hour']:02d}" for b in buckets]
    else:
        buckets, title = figures["by_day"], labels["cost_per_day"]
        names = [b["day"].strftime("%d/%m") for b in buckets]
    series = {p: [b["cost_by_provider"][p] for b in buckets] for p in figures["providers"]}
    evolution = figures["weekly_evolution"]
    return {
        "period_chart": charts.stacked_cost_chart(names, series, title),
        "evolution_chart": charts.evolution_chart([w["week"] for w in evolution],
                                                  [w["cost_usd"] for w in evolution], labels["evolution"]),
    }


def report_subject(figures: dict, labels: dict[str, str], locale: str) -> str:
    """Return the email subject: title, client, period and total cost."""
    title = labels["daily_title" if figures["kind"] == "daily" else "weekly_title"]
    who = labels["operator_title"] if figures["client_id"] == OPERATOR else figures["client_id"]
    return f"{title} · {who} · {figures['period']}: {format_usd(figures['total_cost_usd'], locale)}"


def png_data_uri(png: bytes) -> str:
    """Return a PNG as a data: URI, so a saved HTML file shows its charts on its own."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render_report(figures: dict, locale: str) -> RenderedReport:
    """Render one report's figures into email HTML (cid: charts), file HTML (data: charts), text and PNGs."""
    labels = labels_for(locale)
    env = template_environment(locale, figures["timezone"])
    images = draw_charts(figures, labels)
    name = "operator_report" if figures["client_id"] == OPERATOR else "client_report"
    context = {
        "r": figures,
        "L": labels,
        "title": labels["daily_title" if figures["kind"] == "daily" else "weekly_title"],
        "client_label": labels["operator_title"] if figures["client_id"] == OPERATOR else figures["client_id"],
        "subject": report_subject(figures, labels, locale),
        "html_lang": "en" if labels is labels_for("en") else "pt-BR",
    }
    html = env.get_template(f"{name}.html")
    email_html = css_inline.inline(html.render(**context, images={n: f"cid:{n}" for n in images}))
    file_html = css_inline.inline(html.render(**context, images={n: png_data_uri(b) for n, b in images.items()}))
    return RenderedReport(
        kind=figures["kind"], period=figures["period"], client_id=figures["client_id"], subject=context["subject"],
        email_html=email_html, file_html=file_html, text=template_environment(locale, figures["timezone"], text=True).get_template(f"{name}.txt").render(**context),
        images=images,
    )


def json_default(value):
    """Serialise what json cannot: Decimals as exact decimal strings, dates and instants in ISO 8601."""
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def figures_json(figures: dict) -> str:
    """Return the report's figures as JSON text, money as decimal strings."""
    return json.dumps(figures, default=json_default, ensure_ascii=False, indent=2)


def report_paths(reports_dir: Path, kind: str, period: str, client_id: str) -> tuple[Path, Path]:
    """Return where a report's HTML and JSON go: <reports_dir>/<kind>/<period>/<client_id>.html and .json."""
    folder = Path(reports_dir) / kind / period
    safe_name = client_id.replace("/", "_").replace("\\", "_")
    if safe_name in (".", ".."):
        safe_name = f"_{safe_name}"
    return folder / f"{safe_name}.html", folder / f"{safe_name}.json"


def save_report(report: RenderedReport, figures: dict, reports_dir: Path) -> RenderedReport:
    """Write the report's HTML (charts embedded) and its figures as JSON; set and return their paths."""
    html_path, json_path = report_paths(reports_dir, report.kind, report.period, report.client_id)
    html_path.parent.mkdir(parents=True, exist_ok=True)
    html_path.write_text(report.file_html, encoding="utf-8")
    json_path.write_text(figures_json(figures), encoding="utf-8")
    report.html_path, report.json_path = html_path, json_path
    return report
