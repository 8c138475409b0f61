"""Verification of the audit log's hash chain (`voxflow audit verify`).

Each entry's hash covers its fixed fields, a digest of its redactable fields and the hash of
the entry before it (see the admin analytics migration). The database recomputes the chain
in one pass, so the canonical text of an entry is defined in exactly one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row


@dataclass(frozen=True)
class ChainReport:
    checked: int
    redacted: int
    first_bad_id: int | None
    problem: str | None

    @property
    def ok(self) -> bool:
        return self.first_bad_id is None and self.problem is None

    def render(self) -> str:
        if self.ok:
            return (
                f"ok: {self.checked} audit entries verified "
                f"({self.redacted} redacted by account deletions)"
            )
        where = f"entry {self.first_bad_id}" if self.first_bad_id is not None else "the chain"
        return f"audit chain broken at {where}: {self.problem}"


def verify(conn: psycopg.Connection[Any]) -> ChainReport:
    """Recompute the chain in one consistent snapshot."""
    with conn.transaction(), conn.cursor(row_factory=dict_row) as cur:
        cur.execute("set transaction isolation level repeatable read, read only")
        cur.execute("select * from private.verify_audit_chain()")
        row = cur.fetchone()
    assert row is not None
    return ChainReport(row["checked"], row["redacted"], row["first_bad_id"], row["problem"])
