"""`usage-etl prices ...`: import, list, set, end, export, catalogue and adopt-legacy."""
from __future__ import annotations

import argparse
import sys
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
    end_price,
    format_time,
    parse_price,
    parse_time,
    read_csv,
    read_prices,
    write_csv,
)
from usage_etl.pricing.legacy import adopt, read_legacy_csv, read_legacy_db
from usage_etl.pricing.price_table import price_rows, prices_in_force
from usage_etl.pricing.upgrades import models_seen, record_seen_prices
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


def _engine(settings: Settings) -> Engine:
    return open_usage_db(settings.db_url)


def run_import(args, settings: Settings) -> int:
    """Add every price of a CSV file, or none when a row is bad."""
    try:
        prices = read_csv(args.file)
        done = add_prices(_engine(settings), prices)
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    print("\n".join(done))
    print(f"imported {len(prices)} price(s) from {args.file}")
    return 0


def run_set(args, settings: Settings) -> int:
    """Add one price."""
    try:
        by_time = UNITS[args.unit][1]
        if by_time and (args.completion or args.cached):
            raise PricingConfigError(f"{args.unit} prices audio time: give --prompt only")
        price = ConfigPrice(
            client_id=args.client, provider=args.provider, model=args.model, unit=args.unit,
            prompt_price=parse_price(args.prompt, "--prompt", required=True),
            completion_price=parse_price(args.completion, "--completion", required=False),
            cached_prompt_price=parse_price(args.cached, "--cached", required=False),
            effective_from=args.effective_from, note=args.note,
        )
        done = add_prices(_engine(settings), [price])
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    print("\n".join(done))
    return 0


def run_end(args, settings: Settings) -> int:
    """End the open price of one key."""
    try:
        done = end_price(_engine(settings), client_id=args.client, provider=args.provider, model=args.model,
                         at=args.at)
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    print(done)
    return 0


def run_export(args, settings: Settings) -> int:
    """Write pricing_config as CSV."""
    try:
        prices = read_prices(_engine(settings))
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
    """Print the prices in force at a time, per model, with their source."""
    at = args.at or datetime.now(timezone.utc)
    try:
        engine = _engine(settings)
        config = read_prices(engine, client_id=args.client)
        pairs = set(models_seen(engine)) | {(p.provider, p.model) for p in config}
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    rows = prices_in_force(price_rows(pairs, config), at, args.client)
    who = f"client {args.client}" if args.client else "all clients"
    print(f"prices in force at {format_time(at)} for {who} (genai-prices {catalogue.catalogue_version()})")
    priced = {(r[2], r[3]) for r in rows}
    table = [("provider", "model", "client", "source", "since", "price")]
    for r in rows:
        table.append((r[2], r[3], r[1] or "-", r[0], format_time(r[4]) if r[4] != catalogue.EPOCH else "-",
                      catalogue.describe_prices(catalogue.UnitPrices(*r[6:]))))
    for provider, model in sorted(pairs - priced):
        table.append((provider, model, "-", "none", "-", "no price: calls stay unpriced"))
    print(_columns(table))
    return 0


def run_catalogue(args, settings: Settings) -> int:
    """Print the catalogue version and its prices for the models in use; record them and list changes."""
    version = catalogue.catalogue_version()
    try:
        engine = _engine(settings)
        pairs = models_seen(engine, args.models_seen_since)
        current = {pair: catalogue.current_prices(*pair) for pair in pairs}
        changes = record_seen_prices(engine, version, current)
    except OPERATOR_ERRORS as exc:
        return _fail(exc)
    since = f" seen since {format_time(args.models_seen_since)}" if args.models_seen_since else " seen in usage_logs"
    print(f"genai-prices {version}: current list prices of the {len(pairs)} model(s){since}")
    table = [("provider", "model", "catalogue id", "price")]
    for (provider, model), prices in sorted(current.items()):
        table.append((provider, model, catalogue.canonical_model(provider, model) or "-",
                      catalogue.describe_prices(prices) if prices else "not in the catalogue"))
    print(_columns(table))
    if changes:
        print(f"\n{len(changes)} price(s) changed since an earlier catalogue version:")
        for c in changes:
            old = catalogue.describe_prices(c.old) if c.old else "no price"
            new = catalogue.describe_prices(c.new) if c.new else "no price"
            print(f"  {c.provider}/{c.model}: {old} (genai-prices {c.old_version}) -> {new} (genai-prices {version})")
        print("calls already loaded keep their cost until they are repriced (usage-etl reprice)")
    else:
        print("\nno price changed since the last catalogue version recorded")
    return 0


def run_adopt_legacy(args, settings: Settings) -> int:
    """Turn the old one-row-per-model pricing table into pricing_config history rows."""
    try:
        if args.from_csv:
            rows = read_legacy_csv(args.from_csv)
        else:
            rows = read_legacy_db(args.from_url, args.table)
        adoption = adopt(rows, effective_from=args.effective_from, token_unit=args.unit,
                         audio_unit=args.whisper_unit)
        done = [] if args.dry_run else add_prices(_engine(settings), adoption.prices)
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
