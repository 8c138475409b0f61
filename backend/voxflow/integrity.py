"""Row counts and checksums that prove data survived a migration, a rollback or an upgrade."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql


@dataclass(frozen=True)
class TableDigest:
    table: str
    rows: int
    checksum: str  # md5 over every row's full text, in primary-key order


def table_digest(
    conn: psycopg.Connection, schema: str, table: str, columns: list[str] | None = None
) -> TableDigest:
    """Checksum a table's rows (all columns, or just `columns`), ordered by its primary key."""
    pk = conn.execute(
        """
        select array_agg(a.attname::text order by k.ord)
        from pg_catalog.pg_index i
        cross join lateral unnest(i.indkey) with ordinality as k (attnum, ord)
        join pg_catalog.pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum
        where i.indrelid = (quote_ident(%s) || '.' || quote_ident(%s))::regclass
          and i.indisprimary
        """,
        (schema, table),
    ).fetchone()
    if not pk or not pk[0]:
        raise ValueError(f"{schema}.{table} has no primary key to order its rows by")
    target = sql.Identifier(schema, table)
    row = (
        sql.SQL("t")
        if columns is None
        else sql.SQL("row({})").format(sql.SQL(", ").join(sql.Identifier("t", c) for c in columns))
    )
    order = sql.SQL(", ").join(sql.Identifier("t", c) for c in pk[0])
    query = sql.SQL(
        "select count(*), coalesce(md5(string_agg(md5({row}::text), '' order by {order})), '') "
        "from {target} as t"
    ).format(row=row, order=order, target=target)
    count, checksum = conn.execute(query).fetchone() or (0, "")
    return TableDigest(table, int(count), str(checksum))
