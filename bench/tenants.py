"""Who the load generator acts as: seeded users with JWTs minted here, shaped exactly like the
sidecar's (voxflow.accounts.issue_access_token, with the role its hook names) and carrying each
user's live session, so PostgREST's request check and the sidecar's guard do the same work as
for a signed-in user."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import jwt
import psycopg
from psycopg.rows import dict_row

from bench.seed import EMAIL_DOMAIN, TRADES, WORDS, provider_secret

TOKEN_SECONDS = 12 * 3600  # outlives the longest run


@dataclass
class Tenant:
    user_id: str
    email: str
    plan: str
    token: str
    agent_ids: list[int] = field(default_factory=list)
    notification_ids: list[int] = field(default_factory=list)
    groq_key: str = ""


@dataclass
class Roster:
    """Everything a load-generator process needs, written to one JSON file."""

    api_url: str
    rest_url: str  # PostgREST without the gateway
    fakes_url: str
    tenants: list[Tenant]
    admins: list[Tenant]
    search_terms: list[str]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls, path: Path) -> Roster:
        raw = json.loads(path.read_text())
        return cls(
            api_url=raw["api_url"],
            rest_url=raw["rest_url"],
            fakes_url=raw["fakes_url"],
            tenants=[Tenant(**t) for t in raw["tenants"]],
            admins=[Tenant(**t) for t in raw["admins"]],
            search_terms=raw["search_terms"],
        )


def mint(jwt_secret: str, api_url: str, row: dict[str, Any]) -> str:
    now = int(time.time())
    claims = {
        "iss": f"{api_url}/auth/v1",
        "sub": str(row["id"]),
        "aud": "authenticated",
        "exp": now + TOKEN_SECONDS,
        "iat": now,
        "email": row["email"],
        "phone": "",
        "role": row["api_role"],
        "app_metadata": {
            **(row["raw_app_meta_data"] or {}),
            "role": row["role"],
            "plan": row["plan_id"],
        },
        "user_metadata": row["raw_user_meta_data"] or {},
        "aal": "aal1",
        "amr": [{"method": "password", "timestamp": now}],
        "session_id": str(row["session_id"]),
        "is_anonymous": False,
    }
    return jwt.encode(claims, jwt_secret, algorithm="HS256")


def build(db_url: str, jwt_secret: str, api_url: str, rest_url: str, fakes_url: str) -> Roster:
    """Active bench users (each with a live session, callable agents and a Groq key)."""
    with psycopg.connect(db_url, row_factory=dict_row) as conn:
        rows = conn.execute(
            """
            select u.id, u.email, u.raw_app_meta_data, u.raw_user_meta_data, p.role, p.plan_id,
                private.custom_access_token_hook(
                    jsonb_build_object('user_id', u.id, 'claims', '{}'::jsonb))
                    -> 'claims' ->> 'role' as api_role,
                (select s.id from private.sessions as s
                 where s.user_id = u.id and s.revoked_at is null
                 order by s.created_at desc limit 1) as session_id,
                array(select a.id from public.agents as a
                      where a.user_id = u.id and a.status = 'active' and a.is_active
                      order by a.id) as agent_ids,
                array(select n.id from public.notifications as n
                      where n.user_id = u.id order by n.created_at desc limit 20)
                    as notification_ids
            from auth.users as u
            join public.profiles as p on p.id = u.id
            where u.email like %s and p.status = 'active'
            order by u.email
            """,
            (f"%@{EMAIL_DOMAIN}",),
        ).fetchall()
    tenants, admins = [], []
    for row in rows:
        tenant = Tenant(
            user_id=str(row["id"]),
            email=row["email"],
            plan=row["plan_id"],
            token=mint(jwt_secret, api_url, row),
            agent_ids=list(row["agent_ids"]),
            notification_ids=list(row["notification_ids"]),
        )
        if row["role"] == "admin":
            admins.append(tenant)
        elif tenant.agent_ids:
            index = int(tenant.email.removeprefix("user").split("@")[0])
            tenant.groq_key = provider_secret("groq", index)["api_key"]
            tenants.append(tenant)
    return Roster(api_url, rest_url, fakes_url, tenants, admins, [*WORDS[:8], *TRADES[:8]])
