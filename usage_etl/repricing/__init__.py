"""Re-costing stored calls when prices change, and the restatements that say what changed."""
