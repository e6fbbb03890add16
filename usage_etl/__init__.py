"""usage-etl: what every LLM call of the chatbot cost, per client, per day and per week."""
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SQL_DIR = REPO_ROOT / "warehouse"
TEMPLATES_DIR = REPO_ROOT / "reports" / "templates"
