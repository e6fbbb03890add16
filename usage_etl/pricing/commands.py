"""`usage-etl prices ...`: import, list, set, end, export, catalogue and adopt-legacy."""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import Engine

from usage_etl.db.engine import UsageDatabaseError, open_usage_db
from usage_etl.pricing import catalogue
from usage_etl.pricing.config import (
    EPOCH_TEXT,
    UNITS,
    ConfigPrice,
    PricingConfigError,
    add_prices,
    describe_amounts,
    end_price,
    format_time,
    parse_price,
    parse_time,
    read_csv,
    read_prices,
    write_csv,
)
from usage_etl.pricing.legacy import adopt, read_legacy_csv, read_legacy_db
from usage_etl.pricing.price_table import config_for_model, price_rows, prices_in_force
from usage_etl.pricing.upgrades import models_seen, record_seen_prices, versions_recorded
from usage_etl.settings import Settings

OPERATOR_ERRORS = (PricingConfigError, UsageDatabaseError, ValueError)


def register(sub) -> None:
    """Add the `prices` sub-commands to the parser."""
    prices = sub.add_parser("prices", help="manage prices: pricing_config and the genai-prices catalogue")
    cmd = prices.add_subparsers(dest="prices_command", required=True)

    p = cmd.add_parser("import", help="add the prices of a CSV file (all rows or none)")
    p.add_argument("file", type=Path, help="CSV: client_id, provider, model, unit, prompt_price, completion_price, "
                                           "cached_prompt_price, effective_from[, effective_to, note]")
    p.set_defaults(func=run_import)

    p = cmd.add_parser("list", help="the prices in force at a time and where each comes from")
    p.add_argument("--client", help="what this client pays (default: global prices and every client's own)")
    p.add_argument("--at", type=_time, help="RFC 3339 time (default: now)")
    p.set_defaults(func=run_list)

    p = cmd.add_parser("set", help="add one price from a time on (an open price of the same key ends then)")
    p.add_argument("--provider", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--client", help="the client it is for (default: all clients)")
    p.add_argument("--unit", required=True, choices=list(UNITS))
    p.add_argument("--prompt", required=True, help="prompt price per unit (the audio price for per_minute/per_hour)")
    p.add_argument("--completion", help="completion price per unit (token units)")
    p.add_argument("--cached", help="cached prompt price per unit (default: the prompt price)")
    p.add_argument("--from", dest="effective_from", required=True, type=_time, help="RFC 3339 start")
    p.add_argument("--note")
    p.set_defaults(func=run_set)

    p = cmd.add_parser("end", help="end the open price of a key at a time")
    p.add_argument("--provider", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--client", help="the client it is for (default: the global price)")
    p.add_argument("--at", required=True, type=_time, help="RFC 3339 end (excluded)")
    p.set_defaults(func=run_end)

    p = cmd.add_parser("export", help="write every pricing_config row to a CSV that `prices import` reads")
    p.add_argument("file", help="CSV path, or - for standard output")
    p.set_defaults(func=run_export)

    p = cmd.add_parser("catalogue", help="the genai-prices version and its prices for the models in use")
    p.add_argument("--models-seen-since", type=_time, help="only models called since this day or time")
    p.set_defaults(func=run_catalogue)

    p = cmd.add_parser("adopt-legacy", help="turn the chatbot's old pricing_config into history rows")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-url", help="database URL of the chatbot's database")
    source.add_argument("--from-csv", type=Path, help="CSV export of the old table")
    p.add_argument("--table", default="pricing_config", help="old table name (with --from-url)")
    p.add_argument("--from", dest="effective_from", type=_time, default=parse_time(EPOCH_TEXT),
                   help=f"RFC 3339 time the old prices start (default: {EPOCH_TEXT})")
    p.add_argument("--unit", default="per_1m_tokens", choices=list(UNITS),
                   help="unit of old token prices when the table has no unit column")
    p.add_argument("--whisper-unit", default="per_minute", choices=list(UNITS),
                   help="unit of old `whisper` prices when the table has no unit column")
    p.add_argument("--dry-run", action="store_true", help="check and report, store nothing")
    p.set_defaults(func=run_adopt_legacy)


def _time(value: str) -> datetime:
    try:
        return parse_time(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _fail(exc: Exception) -> int:
    print(f"usage-etl: {exc}", file=sys.stderr)
    return 2


@contextmanager
def _usage_db(settings: Settings) -> Iterator[Engine]:
    """Open the usage database for one command and close its connections afterwards."""
    engine = open_usage_db(settings.db_url)
    try:
        yield engine
    finally:
        engine.dispose()


def run_import(args, settings: Settings) -> int:
    """Add every price of a CSV file, or none when a row is bad.

    Args:
        args: parsed arguments of `prices import`: `file`, the CSV path.
        settings: the job's settings (the usage database URL).
    """
    try:
        prices = read_csv(args.file)
        with _usage_db(settings) as engine:
            done = add_prices(engine, prices)
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    present = sum(line.startswith("already present") for line in done)
    print("\n".join(done))
    print(f"imported {len(prices) - present} new price(s) from {args.file} ({present} already present)")
    return 0


def run_set(args, settings: Settings) -> int:
    """Add one price.

    Args:
        args: parsed arguments of `prices set`: provider, model, client, unit, prompt, completion, cached, effective_from, note.
        settings: the job's settings (the usage database URL).
    """
    try:
        price = ConfigPrice(
            client_id=args.client or None, provider=args.provider, model=args.model, unit=args.unit,
            prompt_price=parse_price(args.prompt, "--prompt", required=True),
            completion_price=parse_price(args.completion, "--completion", required=False),
            cached_prompt_price=parse_price(args.cached, "--cached", required=False),
            effective_from=args.effective_from, note=args.note,
        )
        with _usage_db(settings) as engine:
            done = add_prices(engine, [price])
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    print("\n".join(done))
    return 0


def run_end(args, settings: Settings) -> int:
    """End the open price of one key.

    Args:
        args: parsed arguments of `prices end`: provider, model, client and `at`, the excluded end.
        settings: the job's settings (the usage database URL).
    """
    try:
        with _usage_db(settings) as engine:
            done = end_price(engine, client_id=args.client or None, provider=args.provider, model=args.model,
                             at=args.at)
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    print(done)
    return 0


def run_export(args, settings: Settings) -> int:
    """Write pricing_config as CSV.

    Args:
        args: parsed arguments of `prices export`: `file`, a CSV path or - for standard output.
        settings: the job's settings (the usage database URL).
    """
    try:
        with _usage_db(settings) as engine:
            prices = read_prices(engine)
        if args.file == "-":
            write_csv(prices, sys.stdout)
            return 0
        with open(args.file, "w", newline="", encoding="utf-8") as out:
            write_csv(prices, out)
    except OSError as exc:
        return _fail(ValueError(f"cannot write {args.file}: {exc.strerror}"))
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    print(f"exported {len(prices)} price(s) to {args.file}")
    return 0


def run_list(args, settings: Settings) -> int:
    """Print the prices in force at a time, per model, with their source (client, global or catalogue).

    A configured price is shown in the unit it was set in; a catalogue price per 1M tokens or per hour of audio.

    Args:
        args: parsed arguments of `prices list`: `client` (None: global prices and every client's own) and `at`.
        settings: the job's settings (the usage database URL).
    """
    at = args.at or datetime.now(timezone.utc)
    client_id = args.client or None
    try:
        with _usage_db(settings) as engine:
            config = read_prices(engine, client_id=client_id)
            pairs = set(models_seen(engine)) | {(p.provider, p.model) for p in config}
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    rows = prices_in_force(price_rows(pairs, config), at, client_id)
    configured = {(p.client_id, provider, model, p.effective_from): p
                  for provider, model in pairs for p in config_for_model(config, provider, model)}
    who = f"client {client_id}" if client_id else "all clients"
    print(f"prices in force at {format_time(at)} for {who} (genai-prices {catalogue.catalogue_version()})")
    priced = {(r[2], r[3]) for r in rows}
    table = [("provider", "model", "client", "source", "from", "until", "price")]
    for r in rows:
        source, row_client, provider, model, start, end = r[:6]
        price = configured.get((row_client, provider, model, start)) if source != "catalogue" else None
        if price is None:
            amounts = catalogue.describe_prices(catalogue.UnitPrices(*r[6:]))
        else:
            amounts = describe_amounts(price) + (f" (set for {price.model})" if price.model != model else "")
        table.append((provider, model, row_client or "-", source,
                      format_time(start) if start != catalogue.EPOCH else "-",
                      format_time(end) if end is not None else "-", amounts))
    for provider, model in sorted(pairs - priced):
        table.append((provider, model, "-", "none", "-", "-", "no price: calls stay unpriced"))
    print(_columns(table))
    return 0


def run_catalogue(args, settings: Settings) -> int:
    """Print the catalogue version and its prices for the models in use; record them and list changes.

    Args:
        args: parsed arguments of `prices catalogue`: `models_seen_since`, a time or None.
        settings: the job's settings (the usage database URL).
    """
    version = catalogue.catalogue_version()
    try:
        with _usage_db(settings) as engine:
            pairs = models_seen(engine, args.models_seen_since)
            current = {pair: catalogue.current_prices(*pair) for pair in pairs}
            compared = [v for v in versions_recorded(engine) if v != version]
            changes = record_seen_prices(engine, version, current)
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    since = f" seen since {format_time(args.models_seen_since)}" if args.models_seen_since else " seen in usage_logs"
    print(f"genai-prices {version}: current list prices of the {len(pairs)} model(s){since}")
    table = [("provider", "model", "catalogue id", "price")]
    for (provider, model), prices in sorted(current.items()):
        table.append((provider, model, catalogue.canonical_model(provider, model) or "-",
                      catalogue.describe_prices(prices) if prices else "not in the catalogue"))
    print(_columns(table) if current else "(no calls with a model in usage_logs)")
    if changes:
        print(f"\n{len(changes)} price(s) changed since an earlier catalogue version:")
        for c in changes:
            old = catalogue.describe_prices(c.old) if c.old else "no price"
            new = catalogue.describe_prices(c.new) if c.new else "no price"
            print(f"  {c.provider}/{c.model}: {old} (genai-prices {c.old_version}) -> {new} (genai-prices {version})")
        print("calls already loaded keep their cost until they are repriced (usage-etl reprice)")
    elif compared:
        print(f"\nno price changed since genai-prices {', '.join(compared)}")
    else:
        print("\nno earlier genai-prices version recorded: after an upgrade this command lists what changed")
    return 0


def run_adopt_legacy(args, settings: Settings) -> int:
    """Turn the old one-row-per-model pricing table into pricing_config history rows.

    Args:
        args: parsed arguments of `prices adopt-legacy`: from_csv or from_url and table, effective_from, unit, whisper_unit, dry_run.
        settings: the job's settings (the usage database URL).
    """
    try:
        if args.from_csv:
            rows = read_legacy_csv(args.from_csv)
        else:
            rows = read_legacy_db(args.from_url, args.table)
        adoption = adopt(rows, effective_from=args.effective_from, token_unit=args.unit,
                         audio_unit=args.whisper_unit)
        done = []
        if not args.dry_run:
            with _usage_db(settings) as engine:
                done = add_prices(engine, adoption.prices)
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    print(f"read {len(rows)} old row(s); {len(adoption.findings)} finding(s) against the catalogue:")
    for finding in adoption.findings:
        print(f"  {finding}")
    if args.dry_run:
        print(f"dry run: {len(adoption.prices)} price(s) would be adopted from {format_time(args.effective_from)}")
        return 0
    print("\n".join(done))
    print(f"adopted {len(adoption.prices)} price(s) effective from {format_time(args.effective_from)}")
    return 0


def _columns(rows: list[tuple[str, ...]]) -> str:
    """Lay rows out as aligned columns."""
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(str(v).ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows)
