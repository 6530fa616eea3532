"""The measure fixtures of the parquet tests, shared: deadlines follow the same dossiers."""

from tests.parquet.conftest import active, decided, stock  # noqa: F401 — fixtures, found by name
