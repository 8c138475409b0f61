"""Runs every pgTAP file in tests/sql with pg_prove against the test stack's database."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from tests.conftest import StackInfo

SQL_TESTS = sorted((Path(__file__).parent / "sql").glob("*_test.sql"))
HELPERS = Path(__file__).parent / "sql" / "_helpers.sql"


@pytest.fixture(scope="session")
def pgtap(stack: StackInfo) -> dict[str, str]:
    """pgTAP and the persona helpers installed once; returns libpq variables for pg_prove."""
    with stack.connect() as conn:
        conn.execute("create extension if not exists pgtap with schema extensions")
        conn.execute(HELPERS.read_bytes())
    params = conninfo_to_dict(stack.db_url)
    return {
        "PGHOST": str(params["host"]),
        "PGPORT": str(params["port"]),
        "PGUSER": str(params["user"]),
        "PGPASSWORD": str(params["password"]),
        "PGDATABASE": str(params["dbname"]),
        "PGOPTIONS": "-c search_path=public,extensions",
    }


@pytest.mark.parametrize("path", SQL_TESTS, ids=[p.stem for p in SQL_TESTS])
def test_pgtap(path: Path, pgtap: dict[str, str], stack: StackInfo) -> None:
    result = subprocess.run(
        ["pg_prove", "--verbose", "--failures", str(path)],
        env={**stack.env, **pgtap},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"{path.name} failed:\n{result.stdout}\n{result.stderr}"


def test_pgtap_suite_is_not_empty() -> None:
    assert SQL_TESTS, "tests/sql holds no *_test.sql files"
