"""Parquet: decisions, devices, attributions, alerts (filled by the parquet issue)."""
