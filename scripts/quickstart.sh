#!/usr/bin/env bash
# Set everything up and run the nightly job on the sample logs with the embedded defaults
# (SQLite usage database, DuckDB warehouse file, reports on disk, emails to the outbox folder).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_HOME=${PREFECT_HOME:-$PWD/.prefect}
# the demo clients' report recipients (an upsert: running the quick start again changes nothing)
.venv/bin/usage-etl recipients import docs/examples/recipients.csv
exec .venv/bin/usage-etl nightly --as-of 2026-11-23 "$@"
