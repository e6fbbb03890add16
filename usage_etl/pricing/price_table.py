"""Price a batch of parsed calls: gather the prices that can apply, then one DuckDB statement prices them all.

`build_price_table` writes the temp table `prices` (usage_etl.columns.PRICE_COLUMNS) for the batch's
(provider, model) pairs from pricing_config (client and global windows) and the genai-prices catalogue
(its price history); `price_calls` runs warehouse/price_calls.sql over the calls and that table.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import duckdb
from sqlalchemy import Engine

from usage_etl import warehouse
from usage_etl.columns import PRICE_COLUMNS, PRICED_CALL_COLUMNS
from usage_etl.pricing import catalogue
from usage_etl.pricing.config import ConfigPrice, read_prices, to_unit_prices

PriceRow = tuple  # one row of PRICE_COLUMNS, in order


def build_price_table(con: duckdb.DuckDBPyConnection, engine: Engine, calls_table: str) -> None:
    """Create the temp table `prices` with every price window that can apply to the calls of `calls_table`."""
    pairs = con.execute(
        f"select distinct provider, model from {calls_table} where provider is not null and model is not null"
    ).fetchall()
    rows = price_rows(pairs, read_prices(engine))
    write_price_table(con, rows)



def write_price_table(con: duckdb.DuckDBPyConnection, rows: Iterable[PriceRow], name: str = "prices") -> None:
    """Create (or replace) the temp table `name` with PRICE_COLUMNS and these rows; refuse overlapping windows."""
    columns = ", ".join(f"{c} {t}" for c, t in PRICE_COLUMNS.items())
    con.execute(f"create or replace temp table {name} ({columns})")
    rows = list(rows)
    if rows:
        placeholders = ", ".join("?" for _ in PRICE_COLUMNS)
        con.executemany(f"insert into {name} values ({placeholders})", rows)
    overlap = con.execute(warehouse.read_sql("select_overlapping_prices.sql").replace("{prices}", name)).fetchone()
    if overlap:  # price_calls.sql relies on one window per scope at any instant: a second would bill a call twice
        scope, client_id, provider, model, first, second = overlap
        raise ValueError(f"two {scope} price windows of {provider} {model}"
                         f"{f' for client {client_id}' if client_id else ''} overlap: from {first} and from {second}")


def price_rows(pairs: Iterable[tuple[str, str]], config: list[ConfigPrice]) -> list[PriceRow]:
    """List the price windows for each (provider, model) a log names: configured ones, then the catalogue's."""
    rows: list[PriceRow] = []
    for provider, model in sorted(set(pairs)):
        for price in config_for_model(config, provider, model):
            rows.append(_row(price.scope, price.client_id, provider, model, price.effective_from,
                             price.effective_to, to_unit_prices(price)))
        for window in catalogue.price_windows(provider, model):
            rows.append(_row("catalogue", None, provider, model, window.effective_from, window.effective_to,
                             window.prices))
    return rows


def config_for_model(config: list[ConfigPrice], provider: str, model: str) -> list[ConfigPrice]:
    """Pick the configured windows that price a model id as the log names it.

    A row for exactly that id applies. A row for another id the catalogue says is the same model
    (`gpt-4o` for `gpt-4o-2024-08-06`) applies too, unless the same client (or the global scope) has rows
    for the exact id: then those win. Of several such aliases, the catalogue's own id is used, else the
    first in alphabetical order, so windows of one scope never overlap.
    """
    same_provider = [p for p in config if p.provider == provider]
    canonical = catalogue.canonical_model(provider, model)
    chosen: list[ConfigPrice] = []
    for client_id in sorted({p.client_id for p in same_provider}, key=lambda c: c or ""):
        mine = [p for p in same_provider if p.client_id == client_id]
        exact = [p for p in mine if p.model == model]
        if exact:
            chosen += exact
            continue
        if canonical is None:
            continue
        aliases = sorted({p.model for p in mine if catalogue.canonical_model(provider, p.model) == canonical},
                         key=lambda m: (m != canonical, m))
        if aliases:
            chosen += [p for p in mine if p.model == aliases[0]]
    return chosen


def _row(scope: str, client_id: str | None, provider: str, model: str, effective_from: datetime,
         effective_to: datetime | None, prices: catalogue.UnitPrices) -> PriceRow:
    return (scope, client_id, provider, model, effective_from, effective_to, *prices.as_tuple())


def price_calls(con: duckdb.DuckDBPyConnection, calls_table: str, prices_table: str) -> None:
    """Create the temp table `priced_calls`: each call of `calls_table` with its cost, source and status."""
    con.execute("create or replace temp table priced_calls as " + priced_calls_sql(calls_table, prices_table))
    names = [row[0] for row in con.execute("describe priced_calls").fetchall()]
    if names != list(PRICED_CALL_COLUMNS):
        raise AssertionError(f"priced_calls has columns {names}, the contract says {list(PRICED_CALL_COLUMNS)}")


def priced_calls_sql(calls_table: str, prices_table: str) -> str:
    """The query of warehouse/price_calls.sql over these two tables, to run alone or inside another query."""
    return warehouse.read_sql("price_calls.sql").replace("{calls}", calls_table).replace("{prices}", prices_table)


SCOPE_RANK = {"client": 0, "global": 1, "catalogue": 2}


def prices_in_force(rows: list[PriceRow], at: datetime, client_id: str | None) -> list[PriceRow]:
    """Pick, per (provider, model), the price a call at `at` would get: the client's, else global, else catalogue.

    With no client, give the global-or-catalogue price of each model and, after it, every client's own price.
    """
    live = [r for r in rows if r[4] <= at and (r[5] is None or at < r[5])]
    picked: list[PriceRow] = []
    for provider, model in sorted({(r[2], r[3]) for r in live}):
        mine = [r for r in live if (r[2], r[3]) == (provider, model)]
        shared = sorted((r for r in mine if r[0] != "client"), key=lambda r: SCOPE_RANK[r[0]])
        own = sorted((r for r in mine if r[0] == "client"), key=lambda r: r[1])
        if client_id is not None:
            own = [r for r in own if r[1] == client_id]
            best = own[:1] or shared[:1]
            picked += best
        else:
            picked += shared[:1] + own
    return picked
