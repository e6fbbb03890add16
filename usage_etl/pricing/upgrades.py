"""Remember the catalogue prices seen for the models in use, to tell which changed after a genai-prices upgrade."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Engine, delete, func, insert, select

from usage_etl.db.schema import catalogue_prices_seen, usage_logs
from usage_etl.pricing.catalogue import PER_TOKEN_FIELDS, UnitPrices


@dataclass(frozen=True)
class CatalogueChange:
    """A model whose catalogue price differs from the one recorded under an earlier catalogue version."""

    provider: str
    model: str
    old_version: str
    old: UnitPrices | None  # None: the earlier catalogue had no price for it
    new: UnitPrices | None  # None: the current catalogue has no price for it


def models_seen(engine: Engine, since: datetime | None = None) -> list[tuple[str, str]]:
    """List the (provider, model) pairs of usage_logs, of calls at or after `since` when given."""
    query = select(usage_logs.c.provider, usage_logs.c.model).distinct().where(usage_logs.c.model.is_not(None))
    if since is not None:
        query = query.where(usage_logs.c.created_at >= since)
    with engine.connect() as conn:
        return sorted((p, m) for p, m in conn.execute(query).all())


def versions_recorded(engine: Engine) -> list[str]:
    """List the catalogue versions whose prices were recorded, oldest record first."""
    query = select(catalogue_prices_seen.c.catalogue_version, func.min(catalogue_prices_seen.c.recorded_at)) \
        .group_by(catalogue_prices_seen.c.catalogue_version).order_by(func.min(catalogue_prices_seen.c.recorded_at))
    with engine.connect() as conn:
        return [version for version, _ in conn.execute(query).all()]


def record_seen_prices(engine: Engine, version: str, prices: dict[tuple[str, str], UnitPrices | None],
                       now: datetime | None = None) -> list[CatalogueChange]:
    """Record the prices seen under `version`; return the models whose price differs under the latest other version."""
    now = now or datetime.now(timezone.utc)
    changes: list[CatalogueChange] = []
    with engine.begin() as conn:
        earlier = conn.execute(
            select(catalogue_prices_seen)
            .where(catalogue_prices_seen.c.catalogue_version != version)
            .order_by(catalogue_prices_seen.c.recorded_at)
        ).mappings().all()
        last_seen: dict[tuple[str, str], tuple[str, UnitPrices | None]] = {}
        for row in earlier:  # later records overwrite earlier ones
            last_seen[(row["provider"], row["model"])] = (row["catalogue_version"], _prices(row))
        for (provider, model), current in sorted(prices.items()):
            if (provider, model) in last_seen:
                old_version, old = last_seen[(provider, model)]
                if old != current:
                    changes.append(CatalogueChange(provider, model, old_version, old, current))
            conn.execute(delete(catalogue_prices_seen).where(
                catalogue_prices_seen.c.catalogue_version == version,
                catalogue_prices_seen.c.provider == provider,
                catalogue_prices_seen.c.model == model,
            ))
            values = dict(zip(PER_TOKEN_FIELDS, current.as_tuple())) if current is not None else {}
            conn.execute(insert(catalogue_prices_seen).values(
                catalogue_version=version, provider=provider, model=model, recorded_at=now, **values))
    return changes


def _prices(row) -> UnitPrices | None:
    prices = UnitPrices(**{f: row[f] for f in PER_TOKEN_FIELDS})
    return prices if prices.usable else None
