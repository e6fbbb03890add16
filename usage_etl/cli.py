"""The `usage-etl` command line: each area registers its own sub-commands."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from usage_etl.prefect_api import PrefectApiError
from usage_etl.settings import Settings

# Modules with a `register(subparsers)` function; each sub-command sets `func(args, settings) -> int`.
COMMAND_MODULES = (
    "usage_etl.ingest_commands",
    "usage_etl.pricing.commands",
    "usage_etl.reporting.commands",
    "usage_etl.reporting.recipient_commands",
    "usage_etl.recorder.commands",
    "usage_etl.repricing.commands",
)


def build_parser() -> argparse.ArgumentParser:
    """Build the parser with every area's sub-commands."""
    parser = argparse.ArgumentParser(prog="usage-etl", description="What every LLM call cost, per client and day.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command and return its exit code.

    Args:
        argv: the arguments after the program name; `sys.argv[1:]` when None.
    """
    args = build_parser().parse_args(argv)
    level = logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)  # Prefect's loggers are at INFO and propagate here: keep the terminal to the summary
    settings = Settings()
    try:
        return int(args.func(args, settings) or 0)
    except PrefectApiError as exc:
        print(f"usage-etl: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
