"""The `usage-etl` command line: each area registers its own sub-commands."""
from __future__ import annotations

import argparse
import importlib
import logging
import sys

from usage_etl import prefect_api
from usage_etl.prefect_api import PrefectApiError

# Modules with a `register(subparsers)` function; each sub-command sets `func(args, settings) -> int`.
COMMAND_MODULES = (
    "usage_etl.ingest_commands",
    "usage_etl.pricing.commands",
    "usage_etl.reporting.commands",
    "usage_etl.reporting.recipient_commands",
    "usage_etl.recorder.commands",
    "usage_etl.repricing.commands",
)
# Sub-commands that run a Prefect flow: their temporary API server starts before the command's imports.
FLOW_COMMANDS = frozenset({"ingest", "backfill", "nightly", "report", "reprice"})
# Prefect's loggers that report a failed task or flow run, with its traceback.
RUN_LOGGERS = ("prefect.flow_runs", "prefect.task_runs")


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
    argv = sys.argv[1:] if argv is None else argv
    command, verbose = _peek(argv)
    _set_up_logging(verbose)
    if command in FLOW_COMMANDS:
        # Started before the imports below (SQLAlchemy, pydantic, every sub-command's module: ~0.8 s), which it
        # overlaps: the server's own start (~5 s) is what a flow command waits for.
        prefect_api.start_early()
    from usage_etl.settings import Settings

    args = build_parser().parse_args(argv)
    settings = Settings()
    try:
        return int(args.func(args, settings) or 0)
    except PrefectApiError as exc:
        print(f"usage-etl: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _peek(argv: list[str]) -> tuple[str | None, bool]:
    """Read the sub-command's name and the top level's -v before the parser (and its imports) exist."""
    for i, arg in enumerate(argv):
        if not arg.startswith("-"):
            return arg, bool({"-v", "--verbose"} & set(argv[:i]))
    return None, bool({"-v", "--verbose"} & set(argv))


def _set_up_logging(verbose: bool) -> None:
    """Send warnings (with -v, info too) to the terminal, Prefect's included."""
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setLevel(level)  # Prefect's loggers are at INFO and propagate here: keep the terminal to the summary
        if not verbose:
            handler.addFilter(_no_run_failure_reports)


def _no_run_failure_reports(record: logging.LogRecord) -> bool:
    """Keep Prefect's reports of a failed run off the terminal: the command reports the failure itself.

    An operator's error (an unreachable database, a missing folder) is one sentence; anything else ends the command
    with Python's traceback. Prefect's reports repeat that traceback two or three times first. -v shows them.
    """
    return not (record.levelno >= logging.ERROR and record.name.startswith(RUN_LOGGERS))


if __name__ == "__main__":
    sys.exit(main())
