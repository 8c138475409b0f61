"""The worker prunes expired rate-limit counts (the limiter's own buckets included) and call
audio Twilio can no longer fetch."""

from __future__ import annotations

from tests.conftest import StackInfo
from voxflow.worker import prune


def test_prune_removes_expired_limiter_and_throttle_buckets(stack: StackInfo) -> None:
    with stack.connect() as conn:
        conn.execute(
            "insert into private.rate_limit_hits (bucket, window_start, hits) values "
            "('user:prune-old', now() - interval '10 minutes', 3), "
            "('user:prune-new', now(), 3), "
            "('login_failures_per_ip:prune-old', now() - interval '1 hour', 3), "
            "('login_failures_per_ip:prune-new', now() - interval '20 minutes', 3)"
        )
        prune(conn)
        left = conn.execute(
            "select bucket from private.rate_limit_hits where bucket like '%%prune-%%' order by 1"
        ).fetchall()
    assert left == [("login_failures_per_ip:prune-new",), ("user:prune-new",)]


def test_prune_removes_call_audio_twilio_can_no_longer_fetch(stack: StackInfo) -> None:
    with stack.connect() as conn:
        owner = conn.execute("select id from public.profiles limit 1").fetchone()[0]
        conn.execute(
            "insert into private.call_audio (user_id, audio, content_type, created_at) values "
            "(%s, 'old', 'audio/mpeg', now() - interval '16 minutes'), "
            "(%s, 'new', 'audio/mpeg', now() - interval '1 minute')",
            (owner, owner),
        )
        prune(conn)
        left = conn.execute(
            "select convert_from(audio, 'UTF8') from private.call_audio "
            "where user_id = %s and content_type = 'audio/mpeg' order by 1",
            (owner,),
        ).fetchall()
    assert ("old",) not in left and ("new",) in left
