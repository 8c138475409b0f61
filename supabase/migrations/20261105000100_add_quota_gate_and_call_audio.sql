-- Purpose: what the voice runtime needs beyond the ledger. A quota gate for calls that spend
--   no tokens up front (speech, transcription, phone) so an exhausted quota restricts every
--   new request; a phone call's turn budget, capped from the remaining tokens when it starts;
--   short-lived synthesized audio that Twilio fetches with <Play>; and per-plan request-rate
--   buckets shared by every replica when Redis is absent.
-- Objects: private.assert_quota, public.conversations.turn_budget, private.call_audio,
--   private.rate_limit_count.
-- Lock impact: one nullable column on conversations (no rewrite); new table and functions.
-- Rollback: drops them.

alter table public.conversations add column turn_budget integer;
comment on column public.conversations.turn_budget is
'Phone calls: turns left, from the token budget at call start (calls in progress may finish).';

create table private.call_audio (
    id uuid primary key default extensions.gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    audio bytea not null,
    content_type text not null,
    created_at timestamptz not null default now()
);
comment on table private.call_audio is 'Agent speech for Twilio <Play>; fetched by unguessable id, pruned.';
create index call_audio_user_id_idx on private.call_audio (user_id);
create index call_audio_created_at_idx on private.call_audio (created_at);
alter table private.call_audio enable row level security;

-- Refuse new provider calls once the month's tokens are spent (429 quota_exceeded), for
-- calls that reserve no tokens. Returns the tokens left. security definer: reads counters
-- and limits of the caller's account.
create function private.assert_quota(p_user_id uuid)
returns bigint
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_period date := private.period_of(now());
    v_limit bigint := (select l.monthly_token_limit from private.effective_limits(p_user_id) as l);
    v_used bigint;
    v_next public.plans;
begin
    select coalesce(c.tokens_used + c.tokens_reserved, 0) into v_used
    from public.usage_counters as c where c.user_id = p_user_id and c.period_start = v_period;
    v_used := coalesce(v_used, 0);
    if v_used >= v_limit then
        v_next := private.upgrade_suggestion('tokens', v_used + 1);
        perform private.raise_error(
            429, 'quota_exceeded',
            format('You have used %s of %s tokens this month', v_used, v_limit),
            json_build_object('tokens_used', v_used, 'token_limit', v_limit,
                'resets_at', (v_period + interval '1 month')::date, 'upgrade_to', v_next.id)::text,
            format('Your quota resets on %s.', (v_period + interval '1 month')::date)
            || coalesce(format(' Upgrade to %s for %s tokens a month.', v_next.name,
                v_next.monthly_token_limit), '')
        );
    end if;
    return v_limit - v_used;
end
$$;
revoke execute on function private.assert_quota(uuid) from public;
grant execute on function private.assert_quota(uuid) to voxflow_sidecar;

-- Count a request in a fixed window; returns the count so far (the caller compares it with
-- the limit). security definer: the counters are private.
create function private.rate_limit_count(p_bucket text, p_window_seconds integer)
returns integer
language sql
security definer
set search_path = ''
as $$
    insert into private.rate_limit_hits as h (bucket, window_start, hits)
    values (
        p_bucket,
        to_timestamp(floor(extract(epoch from now()) / p_window_seconds) * p_window_seconds),
        1
    )
    on conflict (bucket, window_start) do update set hits = h.hits + 1
    returning hits
$$;
revoke execute on function private.rate_limit_count(text, integer) from public;
grant execute on function private.rate_limit_count(text, integer) to voxflow_sidecar;

grant select, insert, delete on private.call_audio to voxflow_sidecar;
grant update (turn_budget) on public.conversations to voxflow_sidecar;
-- A replayed Twilio webhook is recognised by its usage key before the provider is called.
grant select on private.usage_idempotency to voxflow_sidecar;
