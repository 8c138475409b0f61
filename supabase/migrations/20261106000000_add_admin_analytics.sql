-- Purpose: the admin surface. A users overview that stays fast at 100k users (a trigram search
--   index and last-activity index kept by triggers); platform analytics read from small rollups
--   instead of the per-user tables; system health from the gateway's access log and from
--   provider calls; a tamper-evident audit trail; anomaly alerts.
--
--   Rollups. A trigger on public.usage_events appends each event to private.usage_rollup_queue
--   (a plain insert: no platform-wide row is locked on the metering path, so concurrent calls
--   never queue behind one hot counter row) and records the user's activity day.
--   private.refresh_analytics() folds the queue into private.platform_daily and the provider
--   rows of private.health_rollups (DELETE ... RETURNING under an advisory lock, so every
--   event is counted exactly once however many workers run) and recomputes sign-ups and
--   active users of the days it touched. The worker runs it every minute (pg_cron too, where
--   installed); analytics views show the time of the last fold as `as_of`.
--
--   Search. PostgREST filters the users overview with ILIKE, which is not leakproof, so under
--   RLS the planner may not use an index on public.profiles for it (the qual must run after
--   the policy: a 100k-row seq scan). The search text and last activity therefore live in
--   private.user_directory, which has no RLS; the overview joins it to public.profiles, whose
--   policy still decides which rows a caller sees. Trigram and btree indexes serve the filters.
--
--   Audit chain. Each entry gets content_digest = sha256 over its redactable fields (actor
--   email, target id, before, after, ip) and hash = sha256 over (id, time, action, actor id,
--   target type, request id, content_digest, prev_hash), where prev_hash is the hash of the
--   entry before it. A BEFORE INSERT trigger locks the one-row private.audit_chain_head,
--   assigns the id under that lock (so id order is chain order) and computes both; the head
--   keeps the newest hash (advanced once per statement), so dropping the newest entries shows.
--   Account deletion still redacts (nulls the PII, keeps content_digest and hash, stamps
--   redacted_at), so the chain verifies while the PII is gone; any other edit, deletion or
--   reordering breaks it. private.verify_audit_chain() (and `voxflow audit verify`) names the
--   first bad entry. Existing entries are chained once, in id order, by this migration.
--
-- Objects: extension pg_trgm; tables private.user_directory, user_activity_days,
--   usage_rollup_queue, platform_daily, platform_activity, top_users, health_rollups,
--   health_totals, log_cursors, job_runs, anomaly_rules, alerts, audit_chain_head;
--   private.audit_log (+ content_digest, prev_hash, hash, redacted_at, RLS, two indexes);
--   public.profiles (+ created_at index); triggers on public.usage_events, public.profiles,
--   private.audit_log, private.health_rollups; private.audit (now records the client IP) and
--   private.tg_audit_log__forbid_change (stamps redactions) replaced; helper, job, detector and
--   admin functions; admin.acknowledge_alert, admin.resolve_alert; pg_cron job
--   'voxflow-analytics' where pg_cron is installed. Views: sql/views/admin_*.sql.
-- Lock impact: the trigger on public.usage_events takes a SHARE ROW EXCLUSIVE lock on the
--   ledger until this migration commits, so metering waits for the backfills (they read
--   usage_daily, usage_counters and profiles once, never usage_events: 100 s with 5.7M daily
--   rows and 100k users on a loaded 2-core machine, well under a second on a small database);
--   run it at a quiet hour. Index builds block writes to profiles and the audit log meanwhile;
--   chaining the existing audit entries updates each once with its guard trigger disabled.
-- Rollback: drops everything above and restores the two replaced functions; the audit log keeps
--   its rows (the chain columns are dropped); pg_trgm stays installed (other objects may use it).

create extension if not exists pg_trgm with schema extensions;

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------

create table private.user_directory (
    user_id uuid primary key references auth.users (id) on delete cascade,
    search text not null,
    last_active_at timestamptz
);
comment on table private.user_directory is
'Per-user facts the admin overview filters on, kept by triggers. No RLS on purpose: its indexes '
'must serve ILIKE searches; admin.users_overview joins public.profiles, whose policy applies.';
comment on column private.user_directory.search is 'lower(email || '' '' || organization_name).';
comment on column private.user_directory.last_active_at is
'Last sign-in or provider call (provider calls to the minute).';
create index user_directory_search_trgm_idx on private.user_directory
using gin (search extensions.gin_trgm_ops);
create index user_directory_last_active_at_idx on private.user_directory (last_active_at);

create table private.user_activity_days (
    user_id uuid not null references auth.users (id) on delete cascade,
    day date not null,
    primary key (user_id, day)
);
comment on table private.user_activity_days is 'Days (UTC) a user signed in or made a provider call.';
create index user_activity_days_day_idx on private.user_activity_days (day, user_id);

create table private.usage_rollup_queue (
    id bigint generated always as identity primary key,
    occurred_at timestamptz not null,
    day date not null,
    plan_id text not null,
    provider text not null,
    kind text not null,
    model text not null,
    success boolean not null,
    latency_ms integer,
    input_tokens bigint not null,
    output_tokens bigint not null,
    audio_seconds numeric(16, 3) not null,
    characters bigint not null,
    call_seconds numeric(16, 3) not null,
    cost_usd numeric(16, 8) not null,
    unpriced boolean not null
);
comment on table private.usage_rollup_queue is
'Usage events not yet folded into the platform rollups (private.refresh_analytics empties it).';
comment on column private.usage_rollup_queue.unpriced is 'Consumed units but cost 0: a price is missing.';

create table private.platform_daily (
    day date not null,
    provider text not null,
    kind text not null,
    model text not null,
    plan_id text not null,
    events bigint not null default 0,
    failures bigint not null default 0,
    input_tokens bigint not null default 0,
    output_tokens bigint not null default 0,
    audio_seconds numeric(18, 3) not null default 0,
    characters bigint not null default 0,
    call_seconds numeric(18, 3) not null default 0,
    cost_usd numeric(18, 8) not null default 0,
    latency_ms_total bigint not null default 0,
    unpriced_events bigint not null default 0,
    primary key (day, provider, kind, model, plan_id)
);
comment on table private.platform_daily is
'Platform usage per UTC day, provider, kind, model and the user''s plan at the time.';

create table private.platform_activity (
    granularity text not null check (granularity in ('day', 'month')),
    period_start date not null,
    signups integer not null default 0,
    active_users integer not null default 0,
    refreshed_at timestamptz not null default now(),
    primary key (granularity, period_start)
);
comment on table private.platform_activity is
'Sign-ups and distinct active users per UTC day and month (recomputed when touched).';

create table private.top_users (
    period_start date not null,
    rank integer not null,
    user_id uuid not null references auth.users (id) on delete cascade,
    tokens_used bigint not null,
    provider_calls bigint not null,
    cost_usd numeric(16, 8) not null,
    refreshed_at timestamptz not null default now(),
    primary key (period_start, user_id)
);
comment on table private.top_users is
'The 100 costliest users of each month, from the counters (ranking 100k users per request is slow).';
create index top_users_user_id_idx on private.top_users (user_id);

create table private.health_rollups (
    granularity text not null check (granularity in ('minute', 'hour')),
    bucket_start timestamptz not null,
    source text not null check (source in ('route', 'provider')),
    name text not null,
    requests bigint not null default 0,
    client_errors bigint not null default 0,
    server_errors bigint not null default 0,
    latency_ms_total bigint not null default 0,
    latency_hist bigint [] not null,
    p50_ms numeric,
    p95_ms numeric,
    p99_ms numeric,
    primary key (granularity, bucket_start, source, name)
);
comment on table private.health_rollups is
'Gateway routes and provider calls per minute (kept 24 h) and per hour (kept 30 days).';
comment on column private.health_rollups.name is 'A route template (/rest/v1/agents) or provider/kind.';
comment on column private.health_rollups.server_errors is 'HTTP 5xx; for providers, failed calls.';
comment on column private.health_rollups.latency_hist is
'Counts per bucket of private.latency_bounds_ms() (last bucket: above the largest bound).';

create table private.health_totals (
    source text not null check (source in ('route', 'provider')),
    name text not null,
    requests bigint not null default 0,
    client_errors bigint not null default 0,
    server_errors bigint not null default 0,
    latency_ms_total bigint not null default 0,
    latency_hist bigint [] not null,
    primary key (source, name)
);
comment on table private.health_totals is 'Lifetime counters for /metrics (monotonic, never pruned).';

create table private.log_cursors (
    path text primary key,
    inode bigint,
    byte_offset bigint not null default 0,
    lines bigint not null default 0,
    updated_at timestamptz not null default now()
);
comment on table private.log_cursors is
'How far the worker has read each access log; claimed FOR UPDATE so lines count once.';

create table private.job_runs (
    job text primary key,
    last_run_at timestamptz not null,
    last_result jsonb
);
comment on table private.job_runs is 'When each periodic job last ran (one claim per interval).';

create table private.anomaly_rules (
    rule text primary key,
    enabled boolean not null default true,
    params jsonb not null check (jsonb_typeof(params) = 'object'),
    description text not null
);
comment on table private.anomaly_rules is 'Anomaly thresholds; change them with SQL, no deploy.';

insert into private.anomaly_rules (rule, params, description)
values
(
    'cost_spike', '{"sigmas": 3, "baseline_days": 14, "floor_usd": 1, "min_ratio": 2}',
    'a user''s daily cost above mean + sigmas x stddev of their previous days, the floor and '
    || 'min_ratio x their mean'
),
(
    'provider_errors',
    '{"window_minutes": 15, "min_calls": 20, "min_rate": 0.2, "baseline_factor": 3}',
    'a provider''s failure rate in a window, against the 24 hours before'
),
(
    'gateway_5xx',
    '{"window_minutes": 15, "min_requests": 50, "min_rate": 0.05, "baseline_factor": 3}',
    'the gateway''s 5xx rate in a window, against the 24 hours before'
),
('signup_burst', '{"window_minutes": 60, "max_per_ip": 20}', 'sign-ups from one IP in a window'),
(
    'failed_login_burst', '{"window_minutes": 15, "max_per_ip": 20}',
    'failed sign-ins from one IP in a window'
),
('pricing_gap', '{}', 'usage with consumed units but zero cost (a price is missing)');

create table private.alerts (
    id bigserial primary key,
    rule text not null references private.anomaly_rules (rule),
    subject text not null,
    window_start timestamptz not null,
    severity text not null check (severity in ('warning', 'critical')),
    status text not null default 'open' check (status in ('open', 'acknowledged', 'resolved')),
    title text not null,
    evidence jsonb not null,
    raised_at timestamptz not null default now(),
    acknowledged_at timestamptz,
    acknowledged_by uuid references auth.users (id) on delete set null,
    resolved_at timestamptz,
    resolved_by uuid references auth.users (id) on delete set null,
    unique (rule, subject, window_start)
);
comment on table private.alerts is 'Anomalies found by private.detect_anomalies, once per rule, subject and window.';
comment on column private.alerts.subject is 'What it is about: a user id, an IP, provider/kind, ''gateway''.';
create index alerts_status_idx on private.alerts (status, raised_at desc);
create index alerts_acknowledged_by_idx on private.alerts (acknowledged_by);
create index alerts_resolved_by_idx on private.alerts (resolved_by);

create table private.audit_chain_head (
    singleton boolean primary key default true check (singleton),
    last_id bigint,
    hash text,
    updated_at timestamptz not null default now()
);
comment on table private.audit_chain_head is 'The newest audit entry''s hash; locked to append.';
insert into private.audit_chain_head (singleton) values (true);

alter table private.audit_log
add column content_digest text,
add column prev_hash text,
add column hash text,
add column redacted_at timestamptz;
comment on column private.audit_log.content_digest is
'sha256 of the redactable fields as written; kept when an account deletion redacts them.';
comment on column private.audit_log.hash is 'sha256 over the entry''s fixed fields, content_digest and prev_hash.';
comment on column private.audit_log.redacted_at is 'When an account deletion erased its PII.';
create index audit_log_action_idx on private.audit_log (action, occurred_at);
create index audit_log_target_id_idx on private.audit_log (target_id, occurred_at);

create index profiles_created_at_idx on public.profiles (created_at);

-- ---------------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------------

-- What a person calls a kind of usage.
create function private.feature_of(p_kind text)
returns text
language sql
immutable
set search_path = ''
as $$
    select case p_kind
        when 'llm' then 'chat' when 'tts' then 'speak' when 'stt' then 'transcribe'
        when 'telephony' then 'phone' else p_kind
    end
$$;
revoke execute on function private.feature_of(text) from public;
grant execute on function private.feature_of(text) to authenticated, service_role, voxflow_sidecar;

-- Upper bounds (ms) of the latency histogram buckets, roughly 1.6x apart; one more bucket
-- counts everything slower. Prometheus `le` buckets are these over 1000.
create function private.latency_bounds_ms()
returns integer []
language sql
immutable
set search_path = ''
as $$
    select array[
        1, 2, 3, 5, 8, 12, 20, 30, 50, 80, 120, 200, 300, 500, 800, 1200, 2000, 3000, 5000,
        8000, 12000, 20000, 30000, 60000
    ]
$$;
revoke execute on function private.latency_bounds_ms() from public;
grant execute on function private.latency_bounds_ms() to voxflow_sidecar;

-- A histogram (counts per bucket) of latencies; nulls are left out. A latency belongs to the
-- first bucket whose bound is at or above it (Prometheus' `le`): width_bucket counts the
-- bounds below it.
create function private.latency_histogram(p_latencies integer [])
returns bigint []
language sql
immutable
set search_path = ''
as $$
    select array_agg(coalesce(c.n, 0) order by s.i)
    from generate_series(1, cardinality(private.latency_bounds_ms()) + 1) as s (i)
    left join (
        select width_bucket(l.v - 1, private.latency_bounds_ms()) + 1 as i, count(*) as n
        from unnest(p_latencies) as l (v)
        where l.v is not null
        group by 1
    ) as c on s.i = c.i
$$;
revoke execute on function private.latency_histogram(integer []) from public;

-- Element-wise sum of two histograms (either may be null).
create function private.hist_add(p_a bigint [], p_b bigint [])
returns bigint []
language sql
immutable
set search_path = ''
as $$
    select array_agg(coalesce(x.a, 0) + coalesce(x.b, 0) order by x.i)
    from unnest(p_a, p_b) with ordinality as x (a, b, i)
$$;
revoke execute on function private.hist_add(bigint [], bigint []) from public;

-- The q-quantile (0..1) of a histogram in ms, interpolated linearly inside its bucket; null
-- when empty. Above the largest bound it answers that bound.
create function private.hist_quantile(p_hist bigint [], p_q numeric)
returns numeric
language plpgsql
immutable
set search_path = ''
as $$
declare
    v_bounds integer[] := private.latency_bounds_ms();
    v_total numeric := (select coalesce(sum(x), 0) from unnest(p_hist) as x);
    v_target numeric;
    v_seen numeric := 0;
    v_lower numeric := 0;
    v_upper numeric;
begin
    if v_total = 0 then
        return null;
    end if;
    v_target := p_q * v_total;
    for i in 1 .. cardinality(p_hist) loop
        v_upper := coalesce(v_bounds[i], v_lower);
        if p_hist[i] > 0 and v_seen + p_hist[i] >= v_target then
            return round(v_lower + (v_upper - v_lower) * (v_target - v_seen) / p_hist[i], 1);
        end if;
        v_seen := v_seen + p_hist[i];
        v_lower := v_upper;
    end loop;
    return v_lower;
end
$$;
revoke execute on function private.hist_quantile(bigint [], numeric) from public;

-- The caller's address: the sidecar sets voxflow.client_ip; PostgREST requests carry the
-- gateway's X-Forwarded-For (nginx overwrites it with the peer address). Null if unknown.
create function private.client_ip()
returns inet
language plpgsql
stable
set search_path = ''
as $$
declare
    v_raw text := nullif(current_setting('voxflow.client_ip', true), '');
begin
    if v_raw is null then
        v_raw := btrim(split_part(
            coalesce(nullif(current_setting('request.headers', true), ''), '{}')::jsonb
            ->> 'x-forwarded-for', ',', -1
        ));
    end if;
    return nullif(v_raw, '')::inet;
exception
    when invalid_text_representation then
        return null;
end
$$;
revoke execute on function private.client_ip() from public;

-- Append an audit entry (as before, now with the client's IP). security definer: the audit
-- log is writable by no API role.
create or replace function private.audit(
    p_action text,
    p_target_type text,
    p_target_id text,
    p_before jsonb default null,
    p_after jsonb default null,
    p_actor_id uuid default auth.uid()
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_id bigint;
    v_headers jsonb := nullif(current_setting('request.headers', true), '')::jsonb;
begin
    insert into private.audit_log (
        actor_id, actor_email, action, target_type, target_id, before, after, request_id, ip
    )
    values (
        p_actor_id,
        (select u.email from auth.users as u where u.id = p_actor_id),
        p_action, p_target_type, p_target_id, p_before, p_after,
        coalesce(nullif(current_setting('voxflow.request_id', true), ''), v_headers ->> 'x-request-id'),
        private.client_ip()
    )
    returning id into v_id;
    return v_id;
end
$$;

-- The audit chain: a digest of what redaction may erase, and the entry's link in the chain.
create function private.audit_content_digest(p_entry private.audit_log)
returns text
language sql
stable
set search_path = ''
as $$
    select encode(extensions.digest(jsonb_build_array(
        p_entry.actor_email, p_entry.target_id, p_entry.before, p_entry.after, p_entry.ip::text
    )::text, 'sha256'), 'hex')
$$;
revoke execute on function private.audit_content_digest(private.audit_log) from public;

create function private.audit_chain_hash(p_entry private.audit_log)
returns text
language sql
stable
set search_path = ''
as $$
    select encode(extensions.digest(jsonb_build_array(
        p_entry.id,
        to_char(p_entry.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_entry.action, p_entry.actor_id, p_entry.target_type, p_entry.request_id,
        p_entry.content_digest, p_entry.prev_hash
    )::text, 'sha256'), 'hex')
$$;
revoke execute on function private.audit_chain_hash(private.audit_log) from public;

-- Chain every entry written before this migration, in id order.
alter table private.audit_log disable trigger before_change_forbid;
do $$
declare
    v_entry private.audit_log;
    v_prev text;
begin
    for v_entry in select * from private.audit_log order by id loop
        v_entry.content_digest := private.audit_content_digest(v_entry);
        v_entry.prev_hash := v_prev;
        v_entry.hash := private.audit_chain_hash(v_entry);
        update private.audit_log
        set content_digest = v_entry.content_digest, prev_hash = v_entry.prev_hash,
            hash = v_entry.hash
        where id = v_entry.id;
        v_prev := v_entry.hash;
    end loop;
    update private.audit_chain_head
    set last_id = (select max(id) from private.audit_log), hash = v_prev, updated_at = now();
end
$$;
alter table private.audit_log enable trigger before_change_forbid;

-- Recompute the chain. Returns one row: entries checked, how many are redacted, and the first
-- bad entry with what is wrong with it (null when the chain is intact).
create function private.verify_audit_chain()
returns table (checked bigint, redacted bigint, first_bad_id bigint, problem text)
language plpgsql
stable
set search_path = ''
as $$
#variable_conflict use_column
declare
    v_head private.audit_chain_head;
begin
    select * into v_head from private.audit_chain_head;
    return query
    with entries as (
        select
            a.*,
            lag(a.hash) over (order by a.id) as expected_prev,
            lead(a.id) over (order by a.id) as next_id,
            private.audit_content_digest(a) as recomputed_content,
            private.audit_chain_hash(a) as recomputed_hash
        from private.audit_log as a
    ),
    checked as (
        select
            e.id,
            case
                when e.hash is null then 'entry has no hash'
                when e.prev_hash is distinct from e.expected_prev
                    then 'prev_hash does not match the entry before it (an entry was removed or reordered)'
                when e.hash <> e.recomputed_hash then 'entry was changed (its hash does not match)'
                when e.redacted_at is null and e.content_digest <> e.recomputed_content
                    then 'entry content was changed'
                when e.redacted_at is not null and (
                    e.actor_email is not null or e.ip is not null or e.before is not null
                    or e.after is not null
                ) then 'redacted entry still carries data'
                when e.redacted_at is not null and not exists (
                    select 1 from private.audit_log as d
                    where d.action in ('user.account_deleted', 'admin.account_deleted')
                        and d.occurred_at = e.redacted_at and d.id > e.id
                ) then 'redacted without an account deletion'
                when e.next_id is null and e.hash is distinct from v_head.hash
                    then 'chain head does not match the newest entry (entries were removed)'
            end as problem,
            e.redacted_at is not null as is_redacted
        from entries as e
    )
    select
        (select count(*) from checked),
        (select count(*) from checked as c where c.is_redacted),
        bad.id,
        coalesce(bad.problem, case
            when not exists (select 1 from private.audit_log) and v_head.hash is not null
                then 'chain head names entries that are gone'
        end)
    from (select 1) as one
    left join lateral (
        select c.id, c.problem from checked as c where c.problem is not null order by c.id limit 1
    ) as bad on true;
end
$$;
revoke execute on function private.verify_audit_chain() from public;

-- ---------------------------------------------------------------------------------------------
-- Triggers
-- ---------------------------------------------------------------------------------------------

-- Link each new entry to the chain under the head's lock, so entries are chained (and
-- numbered) one at a time in commit order. The head is only locked here (a lock leaves no row
-- version behind). The chain's tail within this transaction is kept in a transaction-local
-- setting, which a rolled-back savepoint reverts along with its rows; a transaction's first
-- entry reads it from the head. (Looking the newest entry up in the log would reuse a plan
-- made when the log was small: a scan per entry.)
create function private.tg_audit_log__chain()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_tail text;
begin
    perform 1 from private.audit_chain_head as h where h.singleton for update;
    v_tail := nullif(current_setting('voxflow.audit_chain_tail', true), '');
    if v_tail is null then
        select h.hash into v_tail from private.audit_chain_head as h where h.singleton;
    else
        v_tail := split_part(v_tail, ':', 2);
    end if;
    new.id := nextval('private.audit_log_id_seq');
    new.redacted_at := null;
    new.content_digest := private.audit_content_digest(new);
    new.prev_hash := v_tail;
    new.hash := private.audit_chain_hash(new);
    perform set_config('voxflow.audit_chain_tail', new.id || ':' || new.hash, true);
    return new;
end
$$;
revoke execute on function private.tg_audit_log__chain() from public;

create trigger before_insert_chain
before insert on private.audit_log
for each row execute function private.tg_audit_log__chain();

-- The head records the newest entry once per statement (so removing the newest entries is
-- detected), not once per row: a bulk insert stays linear.
create function private.tg_audit_log__advance_head()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_tail text := nullif(current_setting('voxflow.audit_chain_tail', true), '');
begin
    if v_tail is not null then
        update private.audit_chain_head
        set last_id = split_part(v_tail, ':', 1)::bigint, hash = split_part(v_tail, ':', 2),
            updated_at = now()
        where singleton;
    end if;
    return null;
end
$$;
revoke execute on function private.tg_audit_log__advance_head() from public;

create trigger after_insert_advance_head
after insert on private.audit_log
for each statement execute function private.tg_audit_log__advance_head();

-- Append-only, except the redaction an account deletion performs: it may erase the PII and
-- the target id, never the chained fields, and it is stamped.
create or replace function private.tg_audit_log__forbid_change()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_erasing text := nullif(current_setting('voxflow.audit_erasure', true), '');
begin
    if tg_op = 'UPDATE' and v_erasing is not null
        and new.id = old.id and new.action = old.action and new.occurred_at = old.occurred_at
        and new.actor_id is not distinct from old.actor_id
        and new.target_type is not distinct from old.target_type
        and new.request_id is not distinct from old.request_id
        and new.content_digest is not distinct from old.content_digest
        and new.prev_hash is not distinct from old.prev_hash
        and new.hash is not distinct from old.hash
        and new.actor_email is null and new.ip is null and new.before is null
        and new.after is null then
        new.redacted_at := coalesce(old.redacted_at, now());
        return new;
    end if;
    perform private.raise_error(
        403, 'audit_log_append_only', 'The audit log is append-only',
        null, 'Record a correction as a new entry.'
    );
    return null;
end
$$;

-- Every metered call feeds the platform rollups (through the queue) and the caller's
-- activity. security definer: whoever records usage writes these private tables.
create function private.tg_usage_events__feed_analytics()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_day date := (new.occurred_at at time zone 'UTC')::date;
begin
    insert into private.usage_rollup_queue (
        occurred_at, day, plan_id, provider, kind, model, success, latency_ms, input_tokens,
        output_tokens, audio_seconds, characters, call_seconds, cost_usd, unpriced
    )
    values (
        new.occurred_at, v_day,
        coalesce((select p.plan_id from public.profiles as p where p.id = new.user_id), 'unknown'),
        new.provider, new.kind, new.model, new.success, new.latency_ms, new.input_tokens,
        new.output_tokens, new.audio_seconds, new.characters, new.call_seconds, new.cost_usd,
        new.cost_usd = 0 and (
            new.input_tokens + new.output_tokens > 0 or new.audio_seconds > 0
            or new.characters > 0 or new.call_seconds > 0
        )
    );
    insert into private.user_activity_days (user_id, day) values (new.user_id, v_day)
    on conflict do nothing;
    update private.user_directory set last_active_at = new.occurred_at
    where user_id = new.user_id
        and (last_active_at is null or last_active_at < new.occurred_at - interval '1 minute');
    return null;
end
$$;
revoke execute on function private.tg_usage_events__feed_analytics() from public;

create trigger after_insert_feed_analytics
after insert on public.usage_events
for each row execute function private.tg_usage_events__feed_analytics();

-- Keep the directory in step with profiles: search text, and sign-ins as activity.
-- security definer: users rename their organization; the directory is not theirs to write.
create function private.tg_profiles__sync_directory()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into private.user_directory as d (user_id, search, last_active_at)
    values (new.id, lower(new.email || ' ' || new.organization_name), new.last_sign_in_at)
    on conflict (user_id) do update
    set search = excluded.search,
        last_active_at = greatest(d.last_active_at, excluded.last_active_at);
    if new.last_sign_in_at is not null
        and (tg_op = 'INSERT' or new.last_sign_in_at is distinct from old.last_sign_in_at) then
        insert into private.user_activity_days (user_id, day)
        values (new.id, (new.last_sign_in_at at time zone 'UTC')::date)
        on conflict do nothing;
    end if;
    return null;
end
$$;
revoke execute on function private.tg_profiles__sync_directory() from public;

create trigger after_insert_add_to_directory
after insert on public.profiles
for each row execute function private.tg_profiles__sync_directory();

create trigger after_update_sync_directory
after update of email, organization_name, last_sign_in_at on public.profiles
for each row execute function private.tg_profiles__sync_directory();

-- Percentiles are computed once per write, so reading health rows is plain column access.
create function private.tg_health_rollups__percentiles()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.p50_ms := private.hist_quantile(new.latency_hist, 0.50);
    new.p95_ms := private.hist_quantile(new.latency_hist, 0.95);
    new.p99_ms := private.hist_quantile(new.latency_hist, 0.99);
    return new;
end
$$;
revoke execute on function private.tg_health_rollups__percentiles() from public;

create trigger before_write_percentiles
before insert or update on private.health_rollups
for each row execute function private.tg_health_rollups__percentiles();

-- Backfill from what the database already holds (rollups and counters, not events).
insert into private.user_directory (user_id, search, last_active_at)
select
    p.id as user_id,
    lower(p.email || ' ' || p.organization_name) as search,
    greatest(p.last_sign_in_at, (
        select max(c.updated_at) from public.usage_counters as c
        where c.user_id = p.id and c.events > 0
    )) as last_active_at
from public.profiles as p;

insert into private.user_activity_days (user_id, day)
select distinct
    d.user_id,
    d.day
from public.usage_daily as d
union
select
    p.id as user_id,
    (p.last_sign_in_at at time zone 'UTC')::date as day
from public.profiles as p where p.last_sign_in_at is not null;

insert into private.platform_daily (
    day, provider, kind, model, plan_id, events, failures, input_tokens, output_tokens,
    audio_seconds, characters, call_seconds, cost_usd, latency_ms_total, unpriced_events
)
select
    d.day,
    d.provider,
    d.kind,
    d.model,
    coalesce(p.plan_id, 'unknown') as plan_id,
    sum(d.events) as events,
    sum(d.failures) as failures,
    sum(d.input_tokens) as input_tokens,
    sum(d.output_tokens) as output_tokens,
    sum(d.audio_seconds) as audio_seconds,
    sum(d.characters) as characters,
    sum(d.call_seconds) as call_seconds,
    sum(d.cost_usd) as cost_usd,
    sum(d.latency_ms_total) as latency_ms_total,
    coalesce(sum(d.events) filter (
        where d.cost_usd = 0 and (
            d.input_tokens + d.output_tokens > 0 or d.audio_seconds > 0
            or d.characters > 0 or d.call_seconds > 0
        )
    ), 0) as unpriced_events
from public.usage_daily as d
left join public.profiles as p on d.user_id = p.id
group by d.day, d.provider, d.kind, d.model, coalesce(p.plan_id, 'unknown');

-- ---------------------------------------------------------------------------------------------
-- Jobs (run by the worker, by pg_cron where installed, and by the CLI)
-- ---------------------------------------------------------------------------------------------

-- Claim a periodic job: true for exactly one caller per interval, whoever runs it.
create function private.claim_job(p_job text, p_every interval)
returns boolean
language plpgsql
set search_path = ''
as $$
begin
    insert into private.job_runs (job, last_run_at) values (p_job, '-infinity')
    on conflict do nothing;
    update private.job_runs set last_run_at = now()
    where job = p_job and last_run_at <= now() - p_every;
    return found;
end
$$;
revoke execute on function private.claim_job(text, interval) from public;

-- Sign-ups and distinct active users of these days and of their months.
create function private.refresh_activity(p_days date [])
returns void
language sql
set search_path = ''
as $$
    insert into private.platform_activity as a (
        granularity, period_start, signups, active_users, refreshed_at
    )
    select
        'day',
        d.day,
        (
            select count(*) from public.profiles as p
            where p.created_at >= d.day::timestamp at time zone 'UTC'
                and p.created_at < (d.day + 1)::timestamp at time zone 'UTC'
        ),
        (select count(*) from private.user_activity_days as u where u.day = d.day),
        now()
    from (select distinct day from unnest(p_days) as x (day)) as d
    union all
    select
        'month',
        m.month,
        (
            select count(*) from public.profiles as p
            where p.created_at >= m.month::timestamp at time zone 'UTC'
                and p.created_at < (m.month + interval '1 month')::timestamp at time zone 'UTC'
        ),
        case
            -- This month's active users are exactly those last active since it began.
            when m.month = date_trunc('month', now() at time zone 'UTC')::date then (
                select count(*) from private.user_directory as d
                where d.last_active_at >= m.month::timestamp at time zone 'UTC'
            )
            else (
                select count(distinct u.user_id) from private.user_activity_days as u
                where u.day >= m.month and u.day < (m.month + interval '1 month')::date
            )
        end,
        now()
    from (
        select distinct date_trunc('month', x.day::timestamp)::date as month
        from unnest(p_days) as x (day)
    ) as m
    on conflict (granularity, period_start) do update
    set signups = excluded.signups, active_users = excluded.active_users,
        refreshed_at = excluded.refreshed_at
$$;
revoke execute on function private.refresh_activity(date []) from public;

-- Rank the costliest users of these months again.
create function private.refresh_top_users(p_periods date [])
returns void
language sql
set search_path = ''
as $$
    delete from private.top_users where period_start = any(p_periods);
    insert into private.top_users (
        period_start, rank, user_id, tokens_used, provider_calls, cost_usd, refreshed_at
    )
    select t.period_start, t.rank, t.user_id, t.tokens_used, t.events, t.cost_usd, now()
    from (select distinct x.period from unnest(p_periods) as x (period)) as m
    cross join lateral (
        select
            c.period_start,
            (rank() over (order by c.cost_usd desc))::integer as rank,
            c.user_id,
            c.tokens_used,
            c.events,
            c.cost_usd
        from public.usage_counters as c
        where c.period_start = m.period and c.events > 0
        order by c.cost_usd desc
        limit 100
    ) as t
$$;
revoke execute on function private.refresh_top_users(date []) from public;

-- Fold queued usage into the platform rollups and refresh the activity of the days it
-- touched (and of today and yesterday). One fold at a time: with p_wait false a busy fold
-- is skipped instead of waited for. security definer: the worker runs it as the sidecar.
create function private.refresh_analytics(p_wait boolean default true)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_today date := (now() at time zone 'UTC')::date;
    v_days date[];
    v_folded bigint;
begin
    if p_wait then
        perform pg_advisory_xact_lock(7461020003);
    elsif not pg_try_advisory_xact_lock(7461020003) then
        return jsonb_build_object('skipped', 'another fold is running');
    end if;
    -- The ids are picked (and locked) once, up front: as a semi-join the locking subquery
    -- could be executed again for every queued row.
    with picked as materialized (
        select r.id from private.usage_rollup_queue as r
        order by r.id limit 500000 for update skip locked
    ),
    batch as (
        delete from private.usage_rollup_queue as q
        where q.id = any(array(select p.id from picked as p))
        returning q.*
    ),
    daily as (
        insert into private.platform_daily as d (
            day, provider, kind, model, plan_id, events, failures, input_tokens, output_tokens,
            audio_seconds, characters, call_seconds, cost_usd, latency_ms_total, unpriced_events
        )
        select
            b.day, b.provider, b.kind, b.model, b.plan_id, count(*),
            count(*) filter (where not b.success), sum(b.input_tokens), sum(b.output_tokens),
            sum(b.audio_seconds), sum(b.characters), sum(b.call_seconds), sum(b.cost_usd),
            coalesce(sum(b.latency_ms), 0), count(*) filter (where b.unpriced)
        from batch as b
        group by b.day, b.provider, b.kind, b.model, b.plan_id
        on conflict (day, provider, kind, model, plan_id) do update
        set events = d.events + excluded.events,
            failures = d.failures + excluded.failures,
            input_tokens = d.input_tokens + excluded.input_tokens,
            output_tokens = d.output_tokens + excluded.output_tokens,
            audio_seconds = d.audio_seconds + excluded.audio_seconds,
            characters = d.characters + excluded.characters,
            call_seconds = d.call_seconds + excluded.call_seconds,
            cost_usd = d.cost_usd + excluded.cost_usd,
            latency_ms_total = d.latency_ms_total + excluded.latency_ms_total,
            unpriced_events = d.unpriced_events + excluded.unpriced_events
        returning d.day
    ),
    health as (
        insert into private.health_rollups as h (
            granularity, bucket_start, source, name, requests, client_errors, server_errors,
            latency_ms_total, latency_hist
        )
        select
            g.granularity, date_trunc(g.granularity, b.occurred_at, 'UTC'), 'provider',
            b.provider || '/' || b.kind, count(*), 0, count(*) filter (where not b.success),
            coalesce(sum(b.latency_ms), 0), private.latency_histogram(array_agg(b.latency_ms))
        from batch as b
        cross join (values ('minute', interval '24 hours'), ('hour', interval '30 days'))
            as g (granularity, keep)
        where b.occurred_at >= now() - g.keep
        group by g.granularity, date_trunc(g.granularity, b.occurred_at, 'UTC'), b.provider, b.kind
        on conflict (granularity, bucket_start, source, name) do update
        set requests = h.requests + excluded.requests,
            server_errors = h.server_errors + excluded.server_errors,
            latency_ms_total = h.latency_ms_total + excluded.latency_ms_total,
            latency_hist = private.hist_add(h.latency_hist, excluded.latency_hist)
    ),
    totals as (
        insert into private.health_totals as t (
            source, name, requests, server_errors, latency_ms_total, latency_hist
        )
        select
            'provider', b.provider || '/' || b.kind, count(*), count(*) filter (where not b.success),
            coalesce(sum(b.latency_ms), 0), private.latency_histogram(array_agg(b.latency_ms))
        from batch as b
        group by b.provider, b.kind
        on conflict (source, name) do update
        set requests = t.requests + excluded.requests,
            server_errors = t.server_errors + excluded.server_errors,
            latency_ms_total = t.latency_ms_total + excluded.latency_ms_total,
            latency_hist = private.hist_add(t.latency_hist, excluded.latency_hist)
    )
    select coalesce(array_agg(distinct daily.day), '{}'), (select count(*) from batch)
    into v_days, v_folded
    from daily;
    v_days := v_days || array[v_today, v_today - 1];
    perform private.refresh_activity(v_days);
    perform private.refresh_top_users(
        array(select distinct date_trunc('month', d::timestamp)::date from unnest(v_days) as d)
    );
    insert into private.job_runs as j (job, last_run_at, last_result)
    values ('refresh_analytics', now(), jsonb_build_object('events_folded', v_folded))
    on conflict (job) do update set last_run_at = excluded.last_run_at,
        last_result = excluded.last_result;
    return jsonb_build_object('events_folded', v_folded, 'days', to_jsonb(v_days));
end
$$;
revoke execute on function private.refresh_analytics(boolean) from public;
grant execute on function private.refresh_analytics(boolean) to voxflow_sidecar;

-- One shipment of access-log rollups from the worker: [{minute, route, requests,
-- client_errors, server_errors, latency_ms_total, latency_hist}], added to the minute, hour
-- and lifetime rows. The worker calls it in the transaction that advances its log cursor.
-- security definer: the rollups are not the sidecar's to write directly.
create function private.record_http_stats(p_stats jsonb)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_entry jsonb;
    v_minute timestamptz;
    v_hist bigint[];
    v_grain record;
    v_count integer := 0;
begin
    for v_entry in select e from jsonb_array_elements(p_stats) as e loop
        v_minute := (v_entry ->> 'minute')::timestamptz;
        v_hist := array(select x::bigint from jsonb_array_elements_text(v_entry -> 'latency_hist') as x);
        for v_grain in
            select * from (values ('minute', interval '24 hours'), ('hour', interval '30 days'))
                as g (granularity, keep)
        loop
            continue when v_minute < now() - v_grain.keep;
            insert into private.health_rollups as h (
                granularity, bucket_start, source, name, requests, client_errors, server_errors,
                latency_ms_total, latency_hist
            )
            values (
                v_grain.granularity, date_trunc(v_grain.granularity, v_minute, 'UTC'), 'route',
                v_entry ->> 'route', (v_entry ->> 'requests')::bigint,
                (v_entry ->> 'client_errors')::bigint, (v_entry ->> 'server_errors')::bigint,
                (v_entry ->> 'latency_ms_total')::bigint, v_hist
            )
            on conflict (granularity, bucket_start, source, name) do update
            set requests = h.requests + excluded.requests,
                client_errors = h.client_errors + excluded.client_errors,
                server_errors = h.server_errors + excluded.server_errors,
                latency_ms_total = h.latency_ms_total + excluded.latency_ms_total,
                latency_hist = private.hist_add(h.latency_hist, excluded.latency_hist);
        end loop;
        insert into private.health_totals as t (
            source, name, requests, client_errors, server_errors, latency_ms_total, latency_hist
        )
        values (
            'route', v_entry ->> 'route', (v_entry ->> 'requests')::bigint,
            (v_entry ->> 'client_errors')::bigint, (v_entry ->> 'server_errors')::bigint,
            (v_entry ->> 'latency_ms_total')::bigint, v_hist
        )
        on conflict (source, name) do update
        set requests = t.requests + excluded.requests,
            client_errors = t.client_errors + excluded.client_errors,
            server_errors = t.server_errors + excluded.server_errors,
            latency_ms_total = t.latency_ms_total + excluded.latency_ms_total,
            latency_hist = private.hist_add(t.latency_hist, excluded.latency_hist);
        v_count := v_count + 1;
    end loop;
    return v_count;
end
$$;
revoke execute on function private.record_http_stats(jsonb) from public;
grant execute on function private.record_http_stats(jsonb) to voxflow_sidecar;

-- Bounded size: minute rows for 24 hours, hour rows for 30 days.
create function private.prune_analytics()
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_minutes bigint;
    v_hours bigint;
begin
    delete from private.health_rollups
    where granularity = 'minute' and bucket_start < now() - interval '24 hours';
    get diagnostics v_minutes = row_count;
    delete from private.health_rollups
    where granularity = 'hour' and bucket_start < now() - interval '30 days';
    get diagnostics v_hours = row_count;
    return jsonb_build_object('minute_rows', v_minutes, 'hour_rows', v_hours);
end
$$;
revoke execute on function private.prune_analytics() from public;

-- The anomaly detector. Folds pending usage first (unless p_refresh is false), then checks
-- every enabled rule for the windows around p_at (the current and the previous one) and
-- raises each alert once per rule, subject and window. Returns the alerts it raised now.
-- p_at in the past replays a period. security definer: it reads every user's usage and the
-- audit log.
create function private.detect_anomalies(
    p_at timestamptz default now(), p_refresh boolean default true
)
returns setof private.alerts
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_params jsonb;
    v_day date := (p_at at time zone 'UTC')::date;
    v_window interval;
begin
    if p_refresh then
        perform private.refresh_analytics();
    end if;

    -- A user's daily cost far above their own previous days (missing days count as 0).
    select r.params into v_params from private.anomaly_rules as r
    where r.rule = 'cost_spike' and r.enabled;
    if found then
        return query
        with spend as (
            select d.user_id, d.day, sum(d.cost_usd) as cost
            from public.usage_daily as d
            where d.day in (v_day, v_day - 1)
            group by d.user_id, d.day
            having sum(d.cost_usd) >= (v_params ->> 'floor_usd')::numeric
        ),
        history as (
            select s.user_id, s.day, h.day as past_day, sum(h.cost_usd) as cost
            from spend as s
            join public.usage_daily as h
                on h.user_id = s.user_id and h.day < s.day
                and h.day >= s.day - (v_params ->> 'baseline_days')::integer
            group by s.user_id, s.day, h.day
        ),
        stats as (
            select
                s.user_id, s.day, s.cost,
                coalesce(sum(h.cost), 0) / (v_params ->> 'baseline_days')::numeric as mean,
                sqrt(greatest(
                    coalesce(sum(h.cost * h.cost), 0) / (v_params ->> 'baseline_days')::numeric
                    - power(coalesce(sum(h.cost), 0) / (v_params ->> 'baseline_days')::numeric, 2),
                    0
                )) as sd
            from spend as s
            left join history as h on s.user_id = h.user_id and s.day = h.day
            group by s.user_id, s.day, s.cost
        )
        insert into private.alerts as a (rule, subject, window_start, severity, title, evidence)
        select
            'cost_spike', st.user_id::text, st.day::timestamp at time zone 'UTC', 'warning',
            format('Daily cost of %s USD is far above this user''s usual %s USD', round(st.cost, 2),
                round(st.mean, 2)),
            jsonb_build_object(
                'user_id', st.user_id, 'day', st.day, 'cost_usd', round(st.cost, 4),
                'baseline_mean_usd', round(st.mean, 4), 'baseline_stddev_usd', round(st.sd, 4),
                'baseline_days', (v_params ->> 'baseline_days')::integer,
                'threshold_usd', round(st.mean + (v_params ->> 'sigmas')::numeric * st.sd, 4)
            )
        from stats as st
        where st.cost > st.mean + (v_params ->> 'sigmas')::numeric * st.sd
            and st.cost >= (v_params ->> 'min_ratio')::numeric * st.mean
        on conflict (rule, subject, window_start) do nothing
        returning a.*;
    end if;

    -- Error rates of providers (per provider/kind) and of the gateway (all routes): high in a
    -- window, and well above the 24 hours before it.
    for v_params in
        select r.params || jsonb_build_object('rule', r.rule)
        from private.anomaly_rules as r
        where r.rule in ('provider_errors', 'gateway_5xx') and r.enabled
    loop
        v_window := make_interval(mins => (v_params ->> 'window_minutes')::integer);
        return query
        with windows as (
            select date_bin(v_window, p_at, timestamptz '2000-01-01 00:00+00') - i * v_window as start
            from generate_series(0, 1) as i
        ),
        traffic as (
            select
                w.start,
                case when v_params ->> 'rule' = 'gateway_5xx' then 'gateway' else h.name end as subject,
                case when v_params ->> 'rule' = 'gateway_5xx' then null else h.name end as name,
                sum(h.requests) as requests,
                sum(h.server_errors) as errors
            from windows as w
            join private.health_rollups as h
                on h.granularity = 'minute'
                and h.source = case when v_params ->> 'rule' = 'gateway_5xx' then 'route' else 'provider' end
                and h.bucket_start >= w.start and h.bucket_start < w.start + v_window
                and h.bucket_start <= p_at
            group by 1, 2, 3
        ),
        rated as (
            select
                t.*,
                t.errors::numeric / t.requests as rate,
                (
                    select sum(b.server_errors)::numeric / nullif(sum(b.requests), 0)
                    from private.health_rollups as b
                    where b.granularity = 'hour'
                        and b.source = case when v_params ->> 'rule' = 'gateway_5xx' then 'route' else 'provider' end
                        and (t.name is null or b.name = t.name)
                        and b.bucket_start >= t.start - interval '24 hours'
                        and b.bucket_start < date_trunc('hour', t.start, 'UTC')
                ) as baseline_rate
            from traffic as t
            where t.requests >= coalesce(
                (v_params ->> 'min_calls')::bigint, (v_params ->> 'min_requests')::bigint
            )
        )
        insert into private.alerts as a (rule, subject, window_start, severity, title, evidence)
        select
            v_params ->> 'rule', r.subject, r.start, 'critical',
            format('%s: %s%% of %s %s failed', r.subject, round(100 * r.rate, 1), r.requests,
                case when v_params ->> 'rule' = 'gateway_5xx' then 'requests' else 'calls' end),
            jsonb_build_object(
                'window_start', r.start, 'window_minutes', (v_params ->> 'window_minutes')::integer,
                'requests', r.requests, 'errors', r.errors, 'rate', round(r.rate, 4),
                'baseline_rate_24h', round(coalesce(r.baseline_rate, 0), 4)
            )
        from rated as r
        where r.rate >= (v_params ->> 'min_rate')::numeric
            and r.rate >= (v_params ->> 'baseline_factor')::numeric * coalesce(r.baseline_rate, 0)
        on conflict (rule, subject, window_start) do nothing
        returning a.*;
    end loop;

    -- Bursts of sign-ups or failed sign-ins from one IP (the audit log records the IP).
    for v_params in
        select r.params || jsonb_build_object(
            'rule', r.rule,
            'action', case r.rule when 'signup_burst' then 'user.signed_up' else 'login.failed' end
        )
        from private.anomaly_rules as r
        where r.rule in ('signup_burst', 'failed_login_burst') and r.enabled
    loop
        v_window := make_interval(mins => (v_params ->> 'window_minutes')::integer);
        return query
        with windows as (
            select date_bin(v_window, p_at, timestamptz '2000-01-01 00:00+00') - i * v_window as start
            from generate_series(0, 1) as i
        ),
        bursts as (
            select w.start, l.ip, count(*) as n, min(l.occurred_at) as first_at,
                max(l.occurred_at) as last_at
            from windows as w
            join private.audit_log as l
                on l.action = v_params ->> 'action'
                and l.occurred_at >= w.start and l.occurred_at < w.start + v_window
                and l.occurred_at <= p_at
            where l.ip is not null
            group by w.start, l.ip
            having count(*) >= (v_params ->> 'max_per_ip')::integer
        )
        insert into private.alerts as a (rule, subject, window_start, severity, title, evidence)
        select
            v_params ->> 'rule', host(b.ip), b.start, 'warning',
            format('%s %s from %s in %s minutes', b.n,
                case when v_params ->> 'rule' = 'signup_burst' then 'sign-ups' else 'failed sign-ins' end,
                host(b.ip), v_params ->> 'window_minutes'),
            jsonb_build_object(
                'ip', host(b.ip), 'count', b.n, 'window_start', b.start,
                'window_minutes', (v_params ->> 'window_minutes')::integer,
                'first_at', b.first_at, 'last_at', b.last_at
            )
        from bursts as b
        on conflict (rule, subject, window_start) do nothing
        returning a.*;
    end loop;

    -- Usage that consumed units but cost nothing: the price book has a gap.
    if exists (select 1 from private.anomaly_rules where rule = 'pricing_gap' and enabled) then
        return query
        insert into private.alerts as a (rule, subject, window_start, severity, title, evidence)
        select
            'pricing_gap', d.provider || '/' || d.kind || '/' || d.model,
            d.day::timestamp at time zone 'UTC', 'warning',
            format('%s %s call(s) to %s/%s were priced at 0', sum(d.unpriced_events), d.kind,
                d.provider, d.model),
            jsonb_build_object(
                'provider', d.provider, 'kind', d.kind, 'model', d.model, 'day', d.day,
                'unpriced_events', sum(d.unpriced_events),
                'input_tokens', sum(d.input_tokens), 'output_tokens', sum(d.output_tokens),
                'audio_seconds', sum(d.audio_seconds), 'characters', sum(d.characters),
                'call_seconds', sum(d.call_seconds)
            )
        from private.platform_daily as d
        where d.day in (v_day, v_day - 1) and d.unpriced_events > 0
        group by d.provider, d.kind, d.model, d.day
        on conflict (rule, subject, window_start) do nothing
        returning a.*;
    end if;
end
$$;
revoke execute on function private.detect_anomalies(timestamptz, boolean) from public;
grant execute on function private.detect_anomalies(timestamptz, boolean) to voxflow_sidecar;

-- What the worker (every few seconds) and pg_cron (every minute) call: each job runs when
-- its interval has passed, once across all callers. A fold already in progress is not waited
-- for (detection then reads the rollups as they are). security definer: the worker is the
-- sidecar.
create function private.run_analytics_jobs()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_result jsonb := '{}';
begin
    if private.claim_job('detect_anomalies', interval '55 seconds') then
        v_result := v_result || jsonb_build_object(
            'refresh', private.refresh_analytics(false),
            'alerts_raised', (select count(*) from private.detect_anomalies(now(), false))
        );
    end if;
    if private.claim_job('prune_analytics', interval '1 hour') then
        v_result := v_result || jsonb_build_object('pruned', private.prune_analytics());
    end if;
    return v_result;
end
$$;
revoke execute on function private.run_analytics_jobs() from public;
grant execute on function private.run_analytics_jobs() to voxflow_sidecar;

-- Everything /metrics exposes, read from the rollups (stateless: any sidecar answers the
-- same). One row per sample. security definer: the sidecar reads private rollups.
create function private.metrics_snapshot()
returns table (metric text, labels jsonb, value numeric)
language sql
stable
security definer
set search_path = ''
as $$
    with totals as (
        select
            t.*,
            case when t.source = 'route' then 'voxflow_http' else 'voxflow_provider' end as family,
            case when t.source = 'route' then 'route' else 'provider' end as label
        from private.health_totals as t
    )
    select t.family || '_requests_total', jsonb_build_object(t.label, t.name), t.requests::numeric
    from totals as t
    union all
    select t.family || '_client_errors_total', jsonb_build_object(t.label, t.name), t.client_errors
    from totals as t where t.source = 'route'
    union all
    select t.family || '_server_errors_total', jsonb_build_object(t.label, t.name), t.server_errors
    from totals as t
    union all
    select
        t.family || '_duration_seconds_bucket',
        jsonb_build_object(t.label, t.name, 'le', coalesce(trim_scale(b.bound / 1000.0)::text, '+Inf')),
        sum(h.n) over (partition by t.source, t.name order by h.i)
    from totals as t
    cross join lateral unnest(t.latency_hist) with ordinality as h (n, i)
    left join lateral (
        select (private.latency_bounds_ms())[h.i::integer] as bound
    ) as b on true
    union all
    select t.family || '_duration_seconds_sum', jsonb_build_object(t.label, t.name),
        t.latency_ms_total / 1000.0
    from totals as t
    union all
    select t.family || '_duration_seconds_count', jsonb_build_object(t.label, t.name),
        (select sum(x) from unnest(t.latency_hist) as x)
    from totals as t
    union all
    select 'voxflow_users', jsonb_build_object('status', p.status), count(*)
    from public.profiles as p group by p.status
    union all
    select 'voxflow_agents', jsonb_build_object('status', a.status), count(*)
    from public.agents as a group by a.status
    union all
    select 'voxflow_outbox_backlog', '{}', count(*)
    from private.outbox as o where o.sent_at is null
    union all
    select 'voxflow_alerts', jsonb_build_object('status', s.status), count(a.id)
    from (values ('open'), ('acknowledged')) as s (status)
    left join private.alerts as a on a.status = s.status
    group by s.status
    union all
    select 'voxflow_usage_rollup_backlog', '{}', count(*) from private.usage_rollup_queue
    union all
    select 'voxflow_analytics_age_seconds', '{}', extract(epoch from now() - j.last_run_at)
    from private.job_runs as j where j.job = 'refresh_analytics'
$$;
revoke execute on function private.metrics_snapshot() from public;
grant execute on function private.metrics_snapshot() to voxflow_sidecar;

-- Backfill the activity rollup for every day that has sign-ups, activity or usage.
select private.refresh_activity(array(
    select (p.created_at at time zone 'UTC')::date from public.profiles as p
    union
    select u.day from private.user_activity_days as u
    union
    select d.day from private.platform_daily as d
    union
    select (now() at time zone 'UTC')::date
));
select private.refresh_top_users(array(select distinct c.period_start from public.usage_counters as c));
insert into private.job_runs (job, last_run_at, last_result)
values ('refresh_analytics', now(), '{"backfilled": true}');

-- ---------------------------------------------------------------------------------------------
-- Admin API (views live in sql/views/admin_*.sql, policies in sql/policies/)
-- ---------------------------------------------------------------------------------------------

-- Acknowledge or resolve an alert (open -> acknowledged -> resolved; open -> resolved).
-- security definer: alerts are written by no API role; it checks admin rights itself and
-- audits in the same transaction.
create function private.admin_set_alert_status(p_alert_id bigint, p_status text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_before private.alerts;
    v_after private.alerts;
begin
    perform private.assert_admin();
    select * into v_before from private.alerts where id = p_alert_id for update;
    if not found then
        perform private.raise_error(404, 'alert_not_found', 'No alert with this id');
    end if;
    if v_before.status = 'resolved' or v_before.status = p_status then
        perform private.raise_error(
            409, 'invalid_alert_transition',
            format('This alert is already %s', v_before.status), 'status',
            'Alerts go from open to acknowledged to resolved.'
        );
    end if;
    update private.alerts
    set status = p_status,
        acknowledged_at = case when p_status = 'acknowledged' then now() else acknowledged_at end,
        acknowledged_by = case when p_status = 'acknowledged' then auth.uid() else acknowledged_by end,
        resolved_at = case when p_status = 'resolved' then now() else resolved_at end,
        resolved_by = case when p_status = 'resolved' then auth.uid() else resolved_by end
    where id = p_alert_id
    returning * into v_after;
    perform private.audit(
        'admin.alert_' || p_status, 'alert', p_alert_id::text,
        jsonb_build_object('status', v_before.status), jsonb_build_object('status', v_after.status)
    );
    return to_jsonb(v_after);
end
$$;
revoke execute on function private.admin_set_alert_status(bigint, text) from public;
grant execute on function private.admin_set_alert_status(bigint, text) to authenticated,
service_role;

create function admin.acknowledge_alert(alert_id bigint)
returns jsonb
language sql
set search_path = ''
as $$ select private.admin_set_alert_status(alert_id, 'acknowledged') $$;
revoke execute on function admin.acknowledge_alert(bigint) from public;
grant execute on function admin.acknowledge_alert(bigint) to authenticated, service_role;

create function admin.resolve_alert(alert_id bigint)
returns jsonb
language sql
set search_path = ''
as $$ select private.admin_set_alert_status(alert_id, 'resolved') $$;
revoke execute on function admin.resolve_alert(bigint) from public;
grant execute on function admin.resolve_alert(bigint) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Grants (admin views read these with the caller's rights; RLS lets only admins see rows)
-- ---------------------------------------------------------------------------------------------

alter table private.audit_log enable row level security;
alter table private.platform_daily enable row level security;
alter table private.platform_activity enable row level security;
alter table private.health_rollups enable row level security;
alter table private.job_runs enable row level security;
alter table private.alerts enable row level security;
alter table private.top_users enable row level security;

grant select on private.audit_log, private.platform_daily, private.platform_activity,
private.health_rollups, private.job_runs, private.alerts, private.top_users,
private.user_directory to authenticated, service_role;
grant select, insert, update on private.log_cursors to voxflow_sidecar;

-- ---------------------------------------------------------------------------------------------
-- Schedule where pg_cron is installed in this database (the metering migration creates it)
-- ---------------------------------------------------------------------------------------------

do $$
begin
    if to_regclass('cron.job') is not null
        and current_database() = coalesce(current_setting('cron.database_name', true), 'postgres') then
        perform cron.schedule('voxflow-analytics', '* * * * *', 'select private.run_analytics_jobs()');
    end if;
end
$$;
