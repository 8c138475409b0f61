-- Purpose: metering. A versioned price book; the append-only usage ledger (partitioned by
--   billing month, idempotent by key); counters and daily rollups maintained as events
--   arrive, so dashboards never scan events; atomic token reservations that hold the monthly
--   quota before a provider is called; warnings at 80/95/100 % once per period; conversations;
--   per-plan request rates; closing a period into immutable summaries, archiving its events.
-- Objects: public.plans (+ requests_per_minute, monthly_cost_limit_usd), public.price_book,
--   public.usage_events (+ monthly partitions in private), public.usage_counters,
--   public.usage_daily, public.quota_warnings, public.period_summaries,
--   public.conversations, public.conversation_messages, private.token_reservations,
--   private.usage_idempotency, private.closed_periods; functions to price, reserve, record,
--   warn, close periods; a pg_cron job where pg_cron is installed.
-- Lock impact: new tables; two columns with constant defaults on plans (no rewrite).
-- Rollback: drops all of the above (usage history and summaries are lost; take a backup).

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------

alter table public.plans
add column requests_per_minute integer not null default 60 check (requests_per_minute > 0),
add column monthly_cost_limit_usd numeric(12, 2) check (monthly_cost_limit_usd >= 0);
comment on column public.plans.requests_per_minute is 'Per-user API rate (sidecar and PostgREST).';
comment on column public.plans.monthly_cost_limit_usd is 'Optional cost ceiling; warnings at 80/95/100 %.';
update public.plans set requests_per_minute = case id
    when 'free' then 60 when 'pro' then 600 when 'business' then 3000 else requests_per_minute
end;
update public.plans set monthly_cost_limit_usd = case id
    when 'free' then 5 when 'pro' then 100 when 'business' then 1000
end;

create table public.price_book (
    id bigserial primary key,
    provider text not null check (provider in ('groq', 'deepgram', 'twilio')),
    model text not null,
    unit text not null check (unit in (
        'input_token', 'output_token', 'audio_second', 'character', 'minute'
    )),
    usd_per_unit numeric(20, 12) not null check (usd_per_unit >= 0),
    effective_from timestamptz not null,
    effective_to timestamptz,
    source text not null,
    taken_on date not null,
    unique (provider, model, unit, effective_from),
    check (effective_to is null or effective_to > effective_from)
);
comment on table public.price_book is 'Provider list prices by period; model ''*'' is the provider default.';
create index price_book_lookup_idx on public.price_book (provider, unit, model, effective_from desc);
alter table public.price_book enable row level security;

insert into public.price_book (provider, model, unit, usd_per_unit, effective_from, source, taken_on)
values
('groq', 'llama-3.3-70b-versatile', 'input_token', 0.59 / 1e6, '2025-01-01', 'groq.com/pricing', '2026-11-01'),
('groq', 'llama-3.3-70b-versatile', 'output_token', 0.79 / 1e6, '2025-01-01', 'groq.com/pricing', '2026-11-01'),
('groq', 'llama-3.1-8b-instant', 'input_token', 0.05 / 1e6, '2025-01-01', 'groq.com/pricing', '2026-11-01'),
('groq', 'llama-3.1-8b-instant', 'output_token', 0.08 / 1e6, '2025-01-01', 'groq.com/pricing', '2026-11-01'),
('groq', 'openai/gpt-oss-120b', 'input_token', 0.15 / 1e6, '2025-01-01', 'groq.com/pricing', '2026-11-01'),
('groq', 'openai/gpt-oss-120b', 'output_token', 0.60 / 1e6, '2025-01-01', 'groq.com/pricing', '2026-11-01'),
('groq', 'openai/gpt-oss-20b', 'input_token', 0.075 / 1e6, '2025-01-01', 'groq.com/pricing', '2026-11-01'),
('groq', 'openai/gpt-oss-20b', 'output_token', 0.30 / 1e6, '2025-01-01', 'groq.com/pricing', '2026-11-01'),
('deepgram', 'nova-3', 'audio_second', 0.0043 / 60, '2025-01-01', 'deepgram.com/pricing', '2026-11-01'),
('deepgram', 'nova-2', 'audio_second', 0.0043 / 60, '2025-01-01', 'deepgram.com/pricing', '2026-11-01'),
('deepgram', '*', 'character', 0.030 / 1000, '2025-01-01', 'deepgram.com/pricing (Aura-2)', '2026-11-01'),
('twilio', 'inbound', 'minute', 0.0085, '2025-01-01', 'twilio.com/voice/pricing/us', '2026-11-01'),
('twilio', 'outbound', 'minute', 0.014, '2025-01-01', 'twilio.com/voice/pricing/us', '2026-11-01');

create table public.conversations (
    id uuid primary key default extensions.gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    agent_id bigint not null references public.agents (id) on delete cascade,
    call_id bigint references public.calls (id) on delete cascade,
    created_at timestamptz not null default now()
);
comment on table public.conversations is 'A chat or phone conversation with an agent; history per conversation.';
create index conversations_user_id_idx on public.conversations (user_id, created_at);
create index conversations_agent_id_idx on public.conversations (agent_id);
create index conversations_call_id_idx on public.conversations (call_id);
alter table public.conversations enable row level security;

create table public.conversation_messages (
    id bigserial primary key,
    conversation_id uuid not null references public.conversations (id) on delete cascade,
    user_id uuid not null references auth.users (id) on delete cascade,
    role text not null check (role in ('system', 'user', 'assistant')),
    content text not null,
    created_at timestamptz not null default now()
);
comment on table public.conversation_messages is 'What was said, in order; the LLM sees the recent history.';
create index conversation_messages_conversation_idx on public.conversation_messages (conversation_id, id);
create index conversation_messages_user_id_idx on public.conversation_messages (user_id);
alter table public.conversation_messages enable row level security;

-- The ledger. Partitioned by billing month (the partitions live in `private`, never exposed:
-- everyone reads through the parent, where RLS applies). Append-only: no role may update or
-- delete through the API; corrections are new rows.
create table public.usage_events (
    id bigint generated always as identity,
    user_id uuid not null references auth.users (id) on delete cascade,
    agent_id bigint references public.agents (id) on delete set null,
    conversation_id uuid,
    call_id bigint,
    provider text not null check (provider in ('groq', 'deepgram', 'twilio')),
    kind text not null check (kind in ('llm', 'stt', 'tts', 'telephony')),
    model text not null,
    input_tokens integer not null default 0 check (input_tokens >= 0),
    output_tokens integer not null default 0 check (output_tokens >= 0),
    audio_seconds numeric(12, 3) not null default 0 check (audio_seconds >= 0),
    characters integer not null default 0 check (characters >= 0),
    call_seconds numeric(12, 3) not null default 0 check (call_seconds >= 0),
    latency_ms integer,
    success boolean not null,
    error_code text,
    cost_usd numeric(14, 8) not null,
    price_version text,
    idempotency_key text not null,
    request_id text,
    period_start date not null,
    adjusts_period date,
    occurred_at timestamptz not null default now(),
    primary key (id, period_start)
) partition by range (period_start);
comment on table public.usage_events is 'Every provider call, metered; append-only, partitioned by month.';
comment on column public.usage_events.period_start is 'The billing month it counts in.';
comment on column public.usage_events.adjusts_period is 'Set when it happened in an already closed month.';
comment on column public.usage_events.price_version is 'The price_book rows used, e.g. "12,13".';
create index usage_events_user_idx on public.usage_events (user_id, period_start, occurred_at);
alter table public.usage_events enable row level security;

create table private.usage_events_default partition of public.usage_events default;

create table public.usage_counters (
    user_id uuid not null references auth.users (id) on delete cascade,
    period_start date not null,
    tokens_used bigint not null default 0,
    tokens_reserved bigint not null default 0 check (tokens_reserved >= 0),
    input_tokens bigint not null default 0,
    output_tokens bigint not null default 0,
    audio_seconds numeric(16, 3) not null default 0,
    characters bigint not null default 0,
    call_seconds numeric(16, 3) not null default 0,
    cost_usd numeric(16, 8) not null default 0,
    events bigint not null default 0,
    updated_at timestamptz not null default now(),
    primary key (user_id, period_start)
);
comment on table public.usage_counters is 'Per user and month; the quota reads and reserves here.';
alter table public.usage_counters enable row level security;

create table public.usage_daily (
    user_id uuid not null references auth.users (id) on delete cascade,
    day date not null,
    period_start date not null,
    provider text not null,
    kind text not null,
    model text not null,
    events integer not null default 0,
    failures integer not null default 0,
    input_tokens bigint not null default 0,
    output_tokens bigint not null default 0,
    audio_seconds numeric(16, 3) not null default 0,
    characters bigint not null default 0,
    call_seconds numeric(16, 3) not null default 0,
    cost_usd numeric(16, 8) not null default 0,
    latency_ms_total bigint not null default 0,
    primary key (user_id, day, provider, kind, model)
);
comment on table public.usage_daily is 'Daily rollup per user, provider, kind and model (charts, analytics).';
create index usage_daily_day_idx on public.usage_daily (day);
create index usage_daily_period_idx on public.usage_daily (user_id, period_start);
alter table public.usage_daily enable row level security;

create table public.quota_warnings (
    user_id uuid not null references auth.users (id) on delete cascade,
    period_start date not null,
    metric text not null check (metric in ('tokens', 'cost')),
    threshold integer not null check (threshold in (80, 95, 100)),
    sent_at timestamptz not null default now(),
    primary key (user_id, period_start, metric, threshold)
);
comment on table public.quota_warnings is 'Each warning once per period: the key, not memory, says so.';
alter table public.quota_warnings enable row level security;

create table public.period_summaries (
    user_id uuid not null references auth.users (id) on delete cascade,
    period_start date not null,
    provider text not null,
    kind text not null,
    model text not null,
    events bigint not null,
    input_tokens bigint not null,
    output_tokens bigint not null,
    audio_seconds numeric(16, 3) not null,
    characters bigint not null,
    call_seconds numeric(16, 3) not null,
    cost_usd numeric(16, 8) not null,
    adjustments_usd numeric(16, 8) not null default 0,
    closed_at timestamptz not null default now(),
    primary key (user_id, period_start, provider, kind, model)
);
comment on table public.period_summaries is 'Immutable per-user totals of a closed month: what an invoice needs.';
comment on column public.period_summaries.adjustments_usd is 'Cost of late events for earlier months.';
alter table public.period_summaries enable row level security;

create table private.closed_periods (
    period_start date primary key,
    closed_at timestamptz not null default now(),
    events_archived bigint not null,
    archive_table text not null
);
comment on table private.closed_periods is 'Months closed by private.close_period (idempotent).';

create table private.token_reservations (
    id bigserial primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    period_start date not null,
    tokens bigint not null check (tokens > 0),
    created_at timestamptz not null default now()
);
comment on table private.token_reservations is 'Tokens held for calls in flight; settled or expired.';
create index token_reservations_user_id_idx on private.token_reservations (user_id);
create index token_reservations_created_at_idx on private.token_reservations (created_at);

create table private.usage_idempotency (
    key text primary key,
    period_start date not null,
    created_at timestamptz not null default now()
);
comment on table private.usage_idempotency is 'Keys already metered, so a retried webhook counts once.';
create index usage_idempotency_created_at_idx on private.usage_idempotency (created_at);

-- ---------------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------------

create function private.period_of(p_at timestamptz)
returns date
language sql
immutable
set search_path = ''
as $$ select date_trunc('month', p_at at time zone 'UTC')::date $$;

-- A month's partition, created if missing (in `private`, so it is never exposed).
create function private.ensure_usage_partition(p_period date)
returns text
language plpgsql
set search_path = ''
as $$
declare
    v_name text := format('usage_events_%s', to_char(p_period, 'YYYY_MM'));
begin
    if to_regclass('private.' || v_name) is null then
        execute format(
            'create table private.%I partition of public.usage_events for values from (%L) to (%L)',
            v_name, p_period, (p_period + interval '1 month')::date
        );
    end if;
    return 'private.' || v_name;
end
$$;

select private.ensure_usage_partition((private.period_of(now()) + i * interval '1 month')::date)
from generate_series(-1, 2) as i;

-- The price of one unit at a moment: the model's own price, else the provider default.
create function private.price_of(p_provider text, p_model text, p_unit text, p_at timestamptz)
returns public.price_book
language sql
stable
set search_path = ''
as $$
    select pb.* from public.price_book as pb
    where pb.provider = p_provider and pb.unit = p_unit and pb.model in (p_model, '*')
        and pb.effective_from <= p_at and (pb.effective_to is null or pb.effective_to > p_at)
    order by pb.model = '*', pb.effective_from desc
    limit 1
$$;

-- Cost in USD of what a call consumed, with the price rows used ("" when a price is missing:
-- the anomaly detector reports such pricing gaps).
create function private.cost_of(
    p_provider text, p_kind text, p_model text, p_input_tokens bigint, p_output_tokens bigint,
    p_audio_seconds numeric, p_characters bigint, p_call_seconds numeric, p_at timestamptz,
    out cost_usd numeric, out price_version text
)
language plpgsql
stable
set search_path = ''
as $$
declare
    v_a public.price_book;
    v_b public.price_book;
begin
    if p_kind = 'llm' then
        v_a := private.price_of(p_provider, p_model, 'input_token', p_at);
        v_b := private.price_of(p_provider, p_model, 'output_token', p_at);
        cost_usd := coalesce(p_input_tokens * v_a.usd_per_unit, 0)
            + coalesce(p_output_tokens * v_b.usd_per_unit, 0);
        price_version := concat_ws(',', v_a.id, v_b.id);
    elsif p_kind = 'stt' then
        v_a := private.price_of(p_provider, p_model, 'audio_second', p_at);
        cost_usd := coalesce(p_audio_seconds * v_a.usd_per_unit, 0);
        price_version := v_a.id::text;
    elsif p_kind = 'tts' then
        v_a := private.price_of(p_provider, p_model, 'character', p_at);
        cost_usd := coalesce(p_characters * v_a.usd_per_unit, 0);
        price_version := v_a.id::text;
    else
        v_a := private.price_of(p_provider, p_model, 'minute', p_at);
        cost_usd := coalesce(p_call_seconds / 60.0 * v_a.usd_per_unit, 0);
        price_version := v_a.id::text;
    end if;
    cost_usd := round(cost_usd, 8);
end
$$;

-- Hold `p_tokens` of the caller's monthly quota before a provider is called. Atomic: the
-- counter row's lock serialises concurrent requests, and the WHERE clause is re-checked
-- after the lock, so admitted requests never exceed the limit by more than their own
-- estimates. security definer: users cannot write counters.
create function private.reserve_tokens(p_user_id uuid, p_tokens bigint)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_period date := private.period_of(now());
    v_limit bigint := (select l.monthly_token_limit from private.effective_limits(p_user_id) as l);
    v_counter public.usage_counters;
    v_next public.plans;
    v_id bigint;
begin
    insert into public.usage_counters (user_id, period_start) values (p_user_id, v_period)
    on conflict do nothing;
    update public.usage_counters
    set tokens_reserved = tokens_reserved + p_tokens, updated_at = now()
    where user_id = p_user_id and period_start = v_period
        and tokens_used + tokens_reserved + p_tokens <= v_limit
    returning * into v_counter;
    if not found then
        select * into v_counter from public.usage_counters
        where user_id = p_user_id and period_start = v_period;
        v_next := private.upgrade_suggestion('tokens', v_counter.tokens_used + p_tokens);
        perform private.raise_error(
            429, 'quota_exceeded',
            format('You have used %s of %s tokens this month', v_counter.tokens_used, v_limit),
            json_build_object(
                'tokens_used', v_counter.tokens_used, 'tokens_reserved', v_counter.tokens_reserved,
                'token_limit', v_limit, 'requested', p_tokens,
                'resets_at', (v_period + interval '1 month')::date, 'upgrade_to', v_next.id
            )::text,
            format('Your quota resets on %s.', (v_period + interval '1 month')::date)
            || coalesce(format(' Upgrade to %s for %s tokens a month.', v_next.name,
                v_next.monthly_token_limit), '')
        );
    end if;
    insert into private.token_reservations (user_id, period_start, tokens)
    values (p_user_id, v_period, p_tokens)
    returning id into v_id;
    return v_id;
end
$$;
grant execute on function private.reserve_tokens(uuid, bigint) to voxflow_sidecar;

-- Give back a reservation (the call failed before using anything, or it expired).
-- security definer: it writes counters.
create function private.release_reservation(p_reservation_id bigint)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_res private.token_reservations;
begin
    delete from private.token_reservations where id = p_reservation_id returning * into v_res;
    if found then
        update public.usage_counters
        set tokens_reserved = greatest(tokens_reserved - v_res.tokens, 0), updated_at = now()
        where user_id = v_res.user_id and period_start = v_res.period_start;
    end if;
end
$$;
grant execute on function private.release_reservation(bigint) to voxflow_sidecar;

-- Warnings at 80, 95 and 100 % of the token quota (and of the plan's cost ceiling), each
-- once per period: the primary key of quota_warnings, not memory, decides.
create function private.send_quota_warnings(p_user_id uuid, p_period date)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_counter public.usage_counters;
    v_limits record;
    v_cost_limit numeric;
    v_metric text;
    v_used numeric;
    v_limit numeric;
    v_threshold integer;
    v_next public.plans;
begin
    select * into v_counter from public.usage_counters
    where user_id = p_user_id and period_start = p_period;
    select * into v_limits from private.effective_limits(p_user_id);
    select pl.monthly_cost_limit_usd into v_cost_limit
    from public.plans as pl where pl.id = v_limits.plan_id;
    foreach v_metric in array array['tokens', 'cost'] loop
        v_used := case when v_metric = 'tokens' then v_counter.tokens_used else v_counter.cost_usd end;
        v_limit := case when v_metric = 'tokens' then v_limits.monthly_token_limit else v_cost_limit end;
        continue when v_limit is null or v_limit = 0;
        foreach v_threshold in array array[100, 95, 80] loop
            continue when v_used * 100 < v_limit * v_threshold;
            insert into public.quota_warnings (user_id, period_start, metric, threshold)
            values (p_user_id, p_period, v_metric, v_threshold)
            on conflict do nothing;
            if found then
                v_next := private.upgrade_suggestion(
                    'tokens', (v_limits.monthly_token_limit * 1.01)::bigint + 1
                );
                perform private.notify(
                    p_user_id, 'quota_warning',
                    format('You have used %s%% of your monthly %s', v_threshold,
                        case when v_metric = 'tokens' then 'tokens' else 'cost limit' end),
                    format('%s of %s %s used this month; it resets on %s.%s',
                        round(v_used, 4), v_limit,
                        case when v_metric = 'tokens' then 'tokens' else 'USD' end,
                        (p_period + interval '1 month')::date,
                        coalesce(format(' Upgrade to %s for %s tokens a month.', v_next.name,
                            v_next.monthly_token_limit), '')),
                    jsonb_build_object('metric', v_metric, 'threshold', v_threshold,
                        'used', v_used, 'limit', v_limit, 'upgrade_to', v_next.id)
                );
            end if;
            exit;  -- the highest threshold crossed covers the lower ones
        end loop;
    end loop;
end
$$;
grant execute on function private.send_quota_warnings(uuid, date) to voxflow_sidecar;

-- Record one provider call: price it, append the event (once per idempotency key), settle
-- its reservation, update the counters and rollups, and send any warnings it crosses. An
-- event for a month already closed goes into the current month as an adjustment.
-- Returns the event id, or null when the key was already recorded.
-- security definer: it writes the ledger and counters, which no API role may write.
create function private.record_usage(p_event jsonb, p_reservation_id bigint default null)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_at timestamptz := coalesce((p_event ->> 'occurred_at')::timestamptz, now());
    v_period date := private.period_of(v_at);
    v_adjusts date;
    v_user uuid := (p_event ->> 'user_id')::uuid;
    v_cost record;
    v_tokens bigint := coalesce((p_event ->> 'input_tokens')::bigint, 0)
        + coalesce((p_event ->> 'output_tokens')::bigint, 0);
    v_id bigint;
begin
    if exists (select 1 from private.closed_periods as cp where cp.period_start = v_period) then
        v_adjusts := v_period;
        v_period := private.period_of(now());
    end if;
    insert into private.usage_idempotency (key, period_start)
    values (p_event ->> 'idempotency_key', v_period)
    on conflict do nothing;
    if not found then
        if p_reservation_id is not null then
            perform private.release_reservation(p_reservation_id);
        end if;
        return null;
    end if;
    select * into v_cost from private.cost_of(
        p_event ->> 'provider', p_event ->> 'kind', p_event ->> 'model',
        coalesce((p_event ->> 'input_tokens')::bigint, 0),
        coalesce((p_event ->> 'output_tokens')::bigint, 0),
        coalesce((p_event ->> 'audio_seconds')::numeric, 0),
        coalesce((p_event ->> 'characters')::bigint, 0),
        coalesce((p_event ->> 'call_seconds')::numeric, 0),
        v_at
    );
    insert into public.usage_events (
        user_id, agent_id, conversation_id, call_id, provider, kind, model, input_tokens,
        output_tokens, audio_seconds, characters, call_seconds, latency_ms, success, error_code,
        cost_usd, price_version, idempotency_key, request_id, period_start, adjusts_period,
        occurred_at
    )
    values (
        v_user, (p_event ->> 'agent_id')::bigint, (p_event ->> 'conversation_id')::uuid,
        (p_event ->> 'call_id')::bigint, p_event ->> 'provider', p_event ->> 'kind',
        p_event ->> 'model',
        coalesce((p_event ->> 'input_tokens')::integer, 0),
        coalesce((p_event ->> 'output_tokens')::integer, 0),
        coalesce((p_event ->> 'audio_seconds')::numeric, 0),
        coalesce((p_event ->> 'characters')::integer, 0),
        coalesce((p_event ->> 'call_seconds')::numeric, 0),
        (p_event ->> 'latency_ms')::integer, coalesce((p_event ->> 'success')::boolean, true),
        p_event ->> 'error_code', v_cost.cost_usd, nullif(v_cost.price_version, ''),
        p_event ->> 'idempotency_key', p_event ->> 'request_id', v_period, v_adjusts, v_at
    )
    returning id into v_id;
    if p_reservation_id is not null then
        perform private.release_reservation(p_reservation_id);
    end if;
    insert into public.usage_counters as c (
        user_id, period_start, tokens_used, input_tokens, output_tokens, audio_seconds,
        characters, call_seconds, cost_usd, events
    )
    values (
        v_user, v_period, v_tokens, coalesce((p_event ->> 'input_tokens')::bigint, 0),
        coalesce((p_event ->> 'output_tokens')::bigint, 0),
        coalesce((p_event ->> 'audio_seconds')::numeric, 0),
        coalesce((p_event ->> 'characters')::bigint, 0),
        coalesce((p_event ->> 'call_seconds')::numeric, 0), v_cost.cost_usd, 1
    )
    on conflict (user_id, period_start) do update set
        tokens_used = c.tokens_used + excluded.tokens_used,
        input_tokens = c.input_tokens + excluded.input_tokens,
        output_tokens = c.output_tokens + excluded.output_tokens,
        audio_seconds = c.audio_seconds + excluded.audio_seconds,
        characters = c.characters + excluded.characters,
        call_seconds = c.call_seconds + excluded.call_seconds,
        cost_usd = c.cost_usd + excluded.cost_usd,
        events = c.events + 1,
        updated_at = now();
    insert into public.usage_daily as d (
        user_id, day, period_start, provider, kind, model, events, failures, input_tokens,
        output_tokens, audio_seconds, characters, call_seconds, cost_usd, latency_ms_total
    )
    select
        e.user_id, (e.occurred_at at time zone 'UTC')::date, e.period_start, e.provider, e.kind,
        e.model, 1, (not e.success)::integer, e.input_tokens, e.output_tokens, e.audio_seconds,
        e.characters, e.call_seconds, e.cost_usd, coalesce(e.latency_ms, 0)
    from public.usage_events as e
    where e.id = v_id and e.period_start = v_period
    on conflict (user_id, day, provider, kind, model) do update set
        events = d.events + 1,
        failures = d.failures + excluded.failures,
        input_tokens = d.input_tokens + excluded.input_tokens,
        output_tokens = d.output_tokens + excluded.output_tokens,
        audio_seconds = d.audio_seconds + excluded.audio_seconds,
        characters = d.characters + excluded.characters,
        call_seconds = d.call_seconds + excluded.call_seconds,
        cost_usd = d.cost_usd + excluded.cost_usd,
        latency_ms_total = d.latency_ms_total + excluded.latency_ms_total;
    perform private.send_quota_warnings(v_user, v_period);
    return v_id;
end
$$;
grant execute on function private.record_usage(jsonb, bigint) to voxflow_sidecar;

-- Close a finished month: write the immutable per-user summaries, archive its events by
-- detaching their partition (kept as a plain table in `private`), and record it. Running it
-- again changes nothing. New months need no reset: counters are per month.
create function private.close_period(p_period date)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_partition text := format('usage_events_%s', to_char(p_period, 'YYYY_MM'));
    v_archived bigint;
    v_rows bigint;
begin
    if p_period <> date_trunc('month', p_period)::date then
        raise exception 'a billing period starts on the first of a month, not %', p_period;
    end if;
    if p_period >= private.period_of(now()) then
        raise exception 'the period % has not ended yet', p_period;
    end if;
    perform pg_advisory_xact_lock(7461020002);
    if exists (select 1 from private.closed_periods where period_start = p_period) then
        return jsonb_build_object('period_start', p_period, 'closed', false, 'reason', 'already closed');
    end if;
    insert into public.period_summaries (
        user_id, period_start, provider, kind, model, events, input_tokens, output_tokens,
        audio_seconds, characters, call_seconds, cost_usd, adjustments_usd
    )
    select
        e.user_id, p_period, e.provider, e.kind, e.model, count(*), sum(e.input_tokens),
        sum(e.output_tokens), sum(e.audio_seconds), sum(e.characters), sum(e.call_seconds),
        sum(e.cost_usd), coalesce(sum(e.cost_usd) filter (where e.adjusts_period is not null), 0)
    from public.usage_events as e
    where e.period_start = p_period
    group by e.user_id, e.provider, e.kind, e.model;
    get diagnostics v_rows = row_count;
    select count(*) into v_archived from public.usage_events where period_start = p_period;
    perform private.ensure_usage_partition(p_period);
    execute format(
        'alter table public.usage_events detach partition private.%I', v_partition
    );
    execute format('alter table private.%I rename to %I', v_partition, 'archived_' || v_partition);
    insert into private.closed_periods (period_start, events_archived, archive_table)
    values (p_period, v_archived, 'private.archived_' || v_partition);
    delete from private.token_reservations where period_start = p_period;
    return jsonb_build_object(
        'period_start', p_period, 'closed', true, 'summaries', v_rows, 'events_archived', v_archived
    );
end
$$;

-- Close every ended month still open, make next months' partitions, expire stale holds.
-- What `voxflow billing close` and the pg_cron job run; safe to run any number of times.
create function private.run_billing_close()
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_period date;
    v_results jsonb := '[]';
    v_res private.token_reservations;
begin
    for v_period in
        select distinct e.period_start from public.usage_events as e
        where e.period_start < private.period_of(now())
            and not exists (select 1 from private.closed_periods as cp
                            where cp.period_start = e.period_start)
        order by 1
    loop
        v_results := v_results || private.close_period(v_period);
    end loop;
    perform private.ensure_usage_partition((private.period_of(now()) + i * interval '1 month')::date)
    from generate_series(0, 2) as i;
    for v_res in
        delete from private.token_reservations
        where created_at < now() - interval '15 minutes' returning *
    loop
        update public.usage_counters
        set tokens_reserved = greatest(tokens_reserved - v_res.tokens, 0)
        where user_id = v_res.user_id and period_start = v_res.period_start;
    end loop;
    delete from private.usage_idempotency where created_at < now() - interval '120 days';
    return jsonb_build_object('closed', v_results);
end
$$;

-- The period summaries are immutable once written.
create function private.tg_period_summaries__forbid_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if tg_op = 'DELETE' and not exists (select 1 from auth.users where id = old.user_id) then
        return old;  -- the account is being deleted
    end if;
    perform private.raise_error(
        403, 'summary_immutable', 'A closed period''s summary cannot change', null,
        'Late usage is recorded as an adjustment in the current period.'
    );
    return null;
end
$$;

create trigger before_change_forbid
before update or delete on public.period_summaries
for each row execute function private.tg_period_summaries__forbid_change();

-- Schedule the close monthly where pg_cron is installed in this database.
do $$
begin
    if exists (select 1 from pg_catalog.pg_available_extensions where name = 'pg_cron')
        and current_setting('shared_preload_libraries', true) like '%pg_cron%'
        and current_database() = coalesce(current_setting('cron.database_name', true), 'postgres') then
        create extension if not exists pg_cron;
        perform cron.schedule(
            'voxflow-billing-close', '5 0 1 * *', 'select private.run_billing_close()'
        );
    end if;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Grants (policies live in sql/policies/, views in sql/views/)
-- ---------------------------------------------------------------------------------------------

revoke execute on all functions in schema private from public;
grant select on public.price_book to authenticated, service_role, voxflow_sidecar;
grant select on public.usage_events, public.usage_counters, public.usage_daily,
public.quota_warnings, public.period_summaries, public.conversations,
public.conversation_messages to authenticated, service_role;
grant select, insert on public.conversations, public.conversation_messages to voxflow_sidecar;
grant usage on sequence public.conversation_messages_id_seq to voxflow_sidecar;
