"""Report charts as PNG bytes, drawn with matplotlib's Agg backend (no display needed)."""
from __future__ import annotations

import io
from decimal import Decimal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)

PROVIDER_COLOURS = {"openai": "#10a37f", "groq": "#f55036"}
OTHER_COLOURS = ["#4c78a8", "#b279a2", "#e45756", "#72b7b2", "#eeca3b"]
WIDTH_IN, HEIGHT_IN, DPI = 5.6, 2.4, 150


def provider_colour(provider: str, index: int) -> str:
    """Return the colour of a provider: its brand colour, else one of a fixed palette."""
    return PROVIDER_COLOURS.get(provider, OTHER_COLOURS[index % len(OTHER_COLOURS)])


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return buffer.getvalue()


def _style(ax, title: str) -> None:
    ax.set_label(title)  # the report's heading names the chart; the label keeps it for accessibility tools
    ax.tick_params(labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.yaxis.set_major_formatter(lambda v, _pos: f"${v:,.4g}")


def stacked_cost_chart(labels: list[str], cost_by_provider: dict[str, list[Decimal]], title: str) -> bytes:
    """Draw cost per bucket (hour or day) as bars stacked by provider; return PNG bytes."""
    fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN))
    positions = list(range(len(labels)))
    bottom = [0.0] * len(labels)
    for i, (provider, costs) in enumerate(sorted(cost_by_provider.items())):
        heights = [float(c) for c in costs]  # pixels only: the amounts shown as text stay exact
        ax.bar(positions, heights, bottom=bottom, label=provider, color=provider_colour(provider, i), width=0.8)
        bottom = [b + h for b, h in zip(bottom, heights)]
    _style(ax, title)
    if cost_by_provider:
        ax.legend(fontsize=7, frameon=False, loc="lower right", bbox_to_anchor=(1, 1), ncols=len(cost_by_provider))
    step = 3 if len(labels) > 12 else 1
    ax.set_xticks(positions[::step], labels[::step])
    ax.set_ylim(bottom=0)
    return _png(fig)


def evolution_chart(weeks: list[str], costs: list[Decimal], title: str) -> bytes:
    """Draw the cost of each of the last weeks as a line with markers; return PNG bytes."""
    fig, ax = plt.subplots(figsize=(WIDTH_IN, HEIGHT_IN))
    positions = list(range(len(weeks)))
    ax.plot(positions, [float(c) for c in costs], marker="o", color="#4c78a8", linewidth=1.5)
    ax.fill_between(positions, [float(c) for c in costs], color="#4c78a8", alpha=0.12)
    ax.set_ylim(bottom=0)
    _style(ax, title)
    shown = positions[::-2][::-1]  # every other week, always the newest
    ax.set_xticks(shown, [weeks[i][5:] for i in shown])
    return _png(fig)
