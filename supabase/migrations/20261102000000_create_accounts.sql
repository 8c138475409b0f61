-- Purpose: accounts. Profiles (role, plan, status) created by trigger when a user lands in
--   auth.users (the Supabase pattern); the plans table the limits are read from; the sidecar's
--   own auth state (sessions, rotating refresh tokens, hashed one-time tokens); the mail
--   outbox; shared rate-limit counters; the append-only audit log; and the per-request check
--   PostgREST runs (suspended users and revoked sessions lose access on their next request,
--   non-admins get 403 on the admin schema).
-- Objects: schemas private, admin; private.raise_error; admin.set_user_status,
--   admin.set_user_role (and their private implementations); public.plans, public.profiles; private.sessions,
--   private.refresh_tokens, private.one_time_tokens, private.outbox, private.rate_limit_rules,
--   private.rate_limit_hits, private.audit_log; functions private.is_admin,
--   private.check_request, private.rate_limit_hit, private.rate_limit_retry_after,
--   private.audit; triggers on auth.users.
-- Lock impact: new tables only; the triggers on auth.users take a brief lock to be created.
-- Rollback: drops all of the above (profiles, sessions, tokens, outbox and audit rows are lost).

create schema private;
comment on schema private is 'Server-only tables and security-definer helpers; never exposed.';
create schema admin;
comment on schema admin is 'The admin API (Accept-Profile: admin); 403 for anyone but admins.';

-- API roles call the few private functions granted to them; no private table is granted.
grant usage on schema private to anon, authenticated, service_role, voxflow_sidecar;
grant usage on schema admin to authenticated, service_role;
grant usage on schema public to anon, authenticated, service_role, voxflow_sidecar;

-- Functions are not executable by everyone unless granted next to their definition.
alter default privileges in schema public, private, admin revoke execute on functions from public;

-- ---------------------------------------------------------------------------------------------
-- Types and tables
-- ---------------------------------------------------------------------------------------------

create table public.plans (
    id text primary key,
    name text not null,
    agent_limit integer not null check (agent_limit >= 0),
    monthly_token_limit bigint not null check (monthly_token_limit >= 0),
    monthly_price_usd numeric(10, 2) not null default 0 check (monthly_price_usd >= 0),
    features jsonb not null default '{}' check (jsonb_typeof(features) = 'object'),
    sort_order integer not null default 0
);
comment on table public.plans is 'Subscription plans; limits are read from here, never hard-coded.';
comment on column public.plans.features is 'Extra plan facts for the comparison table.';

insert into public.plans (id, name, agent_limit, monthly_token_limit, monthly_price_usd, sort_order)
values ('free', 'Free', 2, 1000, 0, 0);

create table public.profiles (
    id uuid primary key references auth.users (id) on delete cascade,
    email text not null,
    organization_name text not null
    constraint organization_name_length check (char_length(organization_name) between 1 and 200),
    role text not null default 'user' constraint profiles_role_known check (role in ('user', 'admin')),
    plan_id text not null default 'free' references public.plans (id),
    status text not null default 'pending_verification'
    constraint profiles_status_known check (status in ('pending_verification', 'active', 'suspended')),
    agent_limit_override integer check (agent_limit_override >= 0),
    monthly_token_limit_override bigint check (monthly_token_limit_override >= 0),
    last_sign_in_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);
comment on table public.profiles is 'One row per user: organization, role, plan and status.';
comment on column public.profiles.role is 'Authoritative role; JWT app_metadata.role mirrors it.';
comment on column public.profiles.last_sign_in_at is 'Mirrors auth.users, which API roles cannot read.';
comment on column public.profiles.agent_limit_override is 'Set by an admin; null means the plan''s limit.';
create index profiles_plan_id_idx on public.profiles (plan_id);
create index profiles_email_idx on public.profiles (lower(email));

alter table public.plans enable row level security;
alter table public.profiles enable row level security;

create table private.sessions (
    id uuid primary key default extensions.gen_random_uuid(),
    user_id uuid not null references auth.users (id) on delete cascade,
    created_at timestamptz not null default now(),
    refreshed_at timestamptz,
    revoked_at timestamptz,
    user_agent text,
    ip inet
);
comment on table private.sessions is 'A sign-in; its id is the JWT session_id. Revoked = signed out.';
create index sessions_user_id_idx on private.sessions (user_id);

create table private.refresh_tokens (
    id bigserial primary key,
    token_hash text not null unique,
    session_id uuid not null references private.sessions (id) on delete cascade,
    user_id uuid not null references auth.users (id) on delete cascade,
    created_at timestamptz not null default now(),
    used_at timestamptz
);
comment on table private.refresh_tokens is 'Rotating, single-use refresh tokens (sha256 only).';
create index refresh_tokens_session_id_idx on private.refresh_tokens (session_id);
create index refresh_tokens_user_id_idx on private.refresh_tokens (user_id);

create table private.one_time_tokens (
    id bigserial primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    token_type text not null check (token_type in ('signup', 'recovery')),
    token_hash text not null unique,
    created_at timestamptz not null default now(),
    expires_at timestamptz not null,
    used_at timestamptz
);
comment on table private.one_time_tokens is 'Email verification and recovery links (sha256 only).';
create index one_time_tokens_user_id_idx on private.one_time_tokens (user_id);

create table private.outbox (
    id bigserial primary key,
    user_id uuid references auth.users (id) on delete cascade,
    to_email text not null,
    subject text not null,
    body_text text,
    kind text not null,
    created_at timestamptz not null default now(),
    next_attempt_at timestamptz not null default now(),
    attempts integer not null default 0,
    sent_at timestamptz,
    last_error text
);
comment on table private.outbox is 'Mail waiting to be sent; drained by the worker, retried with backoff.';
comment on column private.outbox.body_text is 'Cleared once sent: it may carry a one-time link.';
create index outbox_pending_idx on private.outbox (next_attempt_at) where sent_at is null;
create index outbox_user_id_idx on private.outbox (user_id);

create table private.rate_limit_rules (
    rule text primary key,
    max_hits integer not null check (max_hits > 0),
    window_seconds integer not null check (window_seconds > 0),
    description text not null
);
comment on table private.rate_limit_rules is 'Limits shared by every replica; change them without a deploy.';

insert into private.rate_limit_rules (rule, max_hits, window_seconds, description)
values
('login_failures_per_email', 5, 900, 'failed sign-ins for one email'),
('login_failures_per_ip', 30, 900, 'failed sign-ins from one IP'),
('signup_per_ip', 30, 3600, 'sign-ups from one IP'),
('resend_per_ip', 10, 3600, 'verification or recovery mails requested from one IP');

create table private.rate_limit_hits (
    bucket text not null,
    window_start timestamptz not null,
    hits integer not null,
    primary key (bucket, window_start)
);
comment on table private.rate_limit_hits is 'Fixed-window counters; old windows are pruned by the worker.';

create table private.audit_log (
    id bigserial primary key,
    occurred_at timestamptz not null default now(),
    actor_id uuid,
    actor_email text,
    action text not null,
    target_type text,
    target_id text,
    before jsonb,
    after jsonb,
    request_id text,
    ip inet
);
comment on table private.audit_log is 'Append-only record of admin actions and security events.';
create index audit_log_actor_id_idx on private.audit_log (actor_id);
create index audit_log_target_idx on private.audit_log (target_type, target_id);
create index audit_log_occurred_at_idx on private.audit_log (occurred_at);

-- ---------------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------------

-- Raise an error a client can act on, with a deliberate HTTP status and a machine-readable
-- code. PostgREST turns sqlstate PGRST into exactly this status and JSON body; the sidecar
-- does the same. Codes are listed in the README.
create function private.raise_error(
    p_status integer, p_code text, p_message text, p_details text default null,
    p_hint text default null
)
returns void
language plpgsql
set search_path = ''
as $$
begin
    raise sqlstate 'PGRST' using
        message = json_build_object(
            'code', p_code, 'message', p_message, 'details', p_details, 'hint', p_hint
        )::text,
        detail = json_build_object('status', p_status, 'headers', json_build_object())::text;
end
$$;
grant execute on function private.raise_error(integer, text, text, text, text)
to anon, authenticated, service_role, voxflow_sidecar;

-- ---------------------------------------------------------------------------------------------
-- Triggers
-- ---------------------------------------------------------------------------------------------

-- security definer: runs for whoever inserts into auth.users (the sidecar, GoTrue), none of
-- whom may write profiles directly.
create function private.tg_users__sync_profile()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    if tg_op = 'INSERT' then
        insert into public.profiles (id, email, organization_name, status)
        values (
            new.id,
            coalesce(new.email, ''),
            coalesce(nullif(btrim(new.raw_user_meta_data ->> 'organization_name'), ''), 'Unnamed'),
            case when new.email_confirmed_at is null then 'pending_verification' else 'active' end
        );
    else
        update public.profiles as p
        set
            email = coalesce(new.email, p.email),
            last_sign_in_at = new.last_sign_in_at,
            status = case
                when p.status = 'pending_verification' and new.email_confirmed_at is not null
                    then 'active'
                else p.status
            end,
            updated_at = now()
        where p.id = new.id;
    end if;
    return new;
end
$$;

create trigger on_user_created_create_profile
after insert on auth.users
for each row execute function private.tg_users__sync_profile();

create trigger on_user_changed_sync_profile
after update of email, email_confirmed_at, last_sign_in_at on auth.users
for each row execute function private.tg_users__sync_profile();

create function private.tg_audit_log__forbid_change()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    perform private.raise_error(
        403, 'audit_log_append_only', 'The audit log is append-only',
        null, 'Record a correction as a new entry.'
    );
    return null;
end
$$;

create trigger before_change_forbid
before update or delete on private.audit_log
for each row execute function private.tg_audit_log__forbid_change();

create trigger before_truncate_forbid
before truncate on private.audit_log
for each statement execute function private.tg_audit_log__forbid_change();

create function private.tg_profiles__touch()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    new.updated_at := now();
    return new;
end
$$;

create trigger before_update_touch
before update on public.profiles
for each row execute function private.tg_profiles__touch();

-- security definer: policies call it for every user, who cannot read other profiles.
create function private.is_admin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select exists (
        select 1 from public.profiles as p
        where p.id = auth.uid() and p.role = 'admin' and p.status = 'active'
    )
$$;
grant execute on function private.is_admin() to authenticated, service_role, voxflow_sidecar;

-- PostgREST's db-pre-request, also called by the sidecar on every user request. security
-- definer: it reads profiles, bans and sessions the caller cannot see.
create function private.check_request()
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_claims jsonb := auth.jwt();
    v_user uuid := auth.uid();
    v_status text;
    v_role text;
    v_banned_until timestamptz;
    v_revoked boolean;
    v_headers jsonb := coalesce(nullif(current_setting('request.headers', true), ''), '{}')::jsonb;
begin
    if auth.role() = 'authenticated' then
        select p.status, p.role, u.banned_until
        into v_status, v_role, v_banned_until
        from public.profiles as p
        join auth.users as u on u.id = p.id
        where p.id = v_user;
        if not found then
            perform private.raise_error(
                401, 'user_not_found', 'This account no longer exists',
                null, 'Sign up again or contact support.'
            );
        end if;
        if v_status = 'suspended' or v_banned_until > now() then
            perform private.raise_error(
                401, 'user_banned', 'This account is suspended',
                null, 'Contact support to have it reactivated.'
            );
        end if;
        if v_claims ? 'session_id' then
            select s.revoked_at is not null into v_revoked
            from private.sessions as s
            where s.id = (v_claims ->> 'session_id')::uuid;
            if v_revoked is distinct from false then
                perform private.raise_error(
                    401, 'session_not_found', 'This session has ended', null, 'Sign in again.'
                );
            end if;
        end if;
    end if;
    -- The admin schema is for admins only: 403 (401 without a token), never an empty 200.
    -- PostgREST picks the schema from Accept-Profile (reads) or Content-Profile (writes).
    if 'admin' in (v_headers ->> 'accept-profile', v_headers ->> 'content-profile')
        and auth.role() is distinct from 'service_role'
        and (v_role is distinct from 'admin' or v_status <> 'active') then
        perform private.raise_error(
            case when auth.role() = 'authenticated' then 403 else 401 end,
            'not_admin', 'Only admins may use the admin API',
            null, 'Sign in with an admin account.'
        );
    end if;
end
$$;
grant execute on function private.check_request() to anon, authenticated, service_role,
voxflow_sidecar;

-- Count one hit in the subject's current window; returns seconds until it may retry (0 = ok).
-- security definer: callers (the sidecar, PostgREST's pre-request) never touch the counters.
create function private.rate_limit_hit(p_rule text, p_subject text)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_rule private.rate_limit_rules;
    v_window timestamptz;
    v_hits integer;
begin
    select * into v_rule from private.rate_limit_rules where rule = p_rule;
    if not found then
        raise exception 'unknown rate limit rule %', p_rule;
    end if;
    v_window := to_timestamp(
        floor(extract(epoch from now()) / v_rule.window_seconds) * v_rule.window_seconds
    );
    insert into private.rate_limit_hits as h (bucket, window_start, hits)
    values (p_rule || ':' || p_subject, v_window, 1)
    on conflict (bucket, window_start) do update set hits = h.hits + 1
    returning hits into v_hits;
    if v_hits > v_rule.max_hits then
        return greatest(1, ceil(extract(epoch from v_window - now()) + v_rule.window_seconds));
    end if;
    return 0;
end
$$;
grant execute on function private.rate_limit_hit(text, text) to voxflow_sidecar;

-- Seconds until the subject may try again under this rule, without counting a hit.
create function private.rate_limit_retry_after(p_rule text, p_subject text)
returns integer
language sql
stable
security definer
set search_path = ''
as $$
    select coalesce(max(
        greatest(1, ceil(extract(epoch from h.window_start - now()) + r.window_seconds))
    ), 0)::integer
    from private.rate_limit_rules as r
    join private.rate_limit_hits as h
        on h.bucket = r.rule || ':' || p_subject
        and h.window_start > now() - make_interval(secs => r.window_seconds)
    where r.rule = p_rule and h.hits >= r.max_hits
$$;
grant execute on function private.rate_limit_retry_after(text, text) to voxflow_sidecar;

-- Append an audit entry. security definer: the audit log is writable by no API role.
create function private.audit(
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
        actor_id, actor_email, action, target_type, target_id, before, after, request_id
    )
    values (
        p_actor_id,
        (select u.email from auth.users as u where u.id = p_actor_id),
        p_action, p_target_type, p_target_id, p_before, p_after,
        coalesce(nullif(current_setting('voxflow.request_id', true), ''), v_headers ->> 'x-request-id')
    )
    returning id into v_id;
    return v_id;
end
$$;
grant execute on function private.audit(text, text, text, jsonb, jsonb, uuid) to voxflow_sidecar;

-- ---------------------------------------------------------------------------------------------
-- Admin API (views live in sql/views/)
-- ---------------------------------------------------------------------------------------------

-- Suspend or reactivate an account. security definer: admins change other users' protected
-- columns, which no API role may write; it checks admin rights itself and audits in the same
-- transaction. A suspension also ends the user's sessions.
create function private.admin_set_user_status(p_user_id uuid, p_status text)
returns public.profiles
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_before public.profiles;
    v_after public.profiles;
begin
    if not private.is_admin() and auth.role() is distinct from 'service_role' then
        perform private.raise_error(403, 'not_admin', 'Only admins may change a user''s status');
    end if;
    if p_status not in ('active', 'suspended') then
        perform private.raise_error(
            400, 'invalid_status', 'Status must be active or suspended', null,
            'Use active to reactivate and suspended to block sign-in.'
        );
    end if;
    select * into v_before from public.profiles where id = p_user_id for update;
    if not found then
        perform private.raise_error(404, 'user_not_found', 'No user with this id');
    end if;
    if p_user_id = auth.uid() and p_status = 'suspended' then
        perform private.raise_error(409, 'cannot_suspend_self', 'You cannot suspend yourself');
    end if;
    update public.profiles set status = p_status where id = p_user_id returning * into v_after;
    if p_status = 'suspended' then
        update private.sessions set revoked_at = now()
        where user_id = p_user_id and revoked_at is null;
    end if;
    perform private.audit(
        case when p_status = 'suspended' then 'admin.user_suspended' else 'admin.user_reactivated' end,
        'user', p_user_id::text,
        jsonb_build_object('status', v_before.status), jsonb_build_object('status', v_after.status)
    );
    return v_after;
end
$$;
grant execute on function private.admin_set_user_status(uuid, text) to authenticated,
service_role;

-- Promote or demote. security definer for the same reason; never leaves the platform
-- without an active admin.
create function private.admin_set_user_role(p_user_id uuid, p_role text)
returns public.profiles
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_before public.profiles;
    v_after public.profiles;
begin
    if not private.is_admin() and auth.role() is distinct from 'service_role' then
        perform private.raise_error(403, 'not_admin', 'Only admins may change a user''s role');
    end if;
    if p_role not in ('user', 'admin') then
        perform private.raise_error(400, 'invalid_role', 'Role must be user or admin');
    end if;
    select * into v_before from public.profiles where id = p_user_id for update;
    if not found then
        perform private.raise_error(404, 'user_not_found', 'No user with this id');
    end if;
    if v_before.role = 'admin' and p_role = 'user' and not exists (
        select 1 from public.profiles as p
        where p.role = 'admin' and p.status = 'active' and p.id <> p_user_id
    ) then
        perform private.raise_error(
            409, 'last_admin', 'This is the last active admin', null, 'Promote another admin first.'
        );
    end if;
    update public.profiles set role = p_role where id = p_user_id returning * into v_after;
    update auth.users
    set raw_app_meta_data = coalesce(raw_app_meta_data, '{}') || jsonb_build_object('role', p_role)
    where id = p_user_id;
    perform private.audit(
        'admin.user_role_changed', 'user', p_user_id::text,
        jsonb_build_object('role', v_before.role), jsonb_build_object('role', v_after.role)
    );
    return v_after;
end
$$;
grant execute on function private.admin_set_user_role(uuid, text) to authenticated, service_role;

-- The admin API's entry points (POST /rest/v1/rpc/... with Content-Profile: admin).
create function admin.set_user_status(user_id uuid, status text)
returns public.profiles
language sql
set search_path = ''
as $$ select private.admin_set_user_status(user_id, status) $$;
grant execute on function admin.set_user_status(uuid, text) to authenticated, service_role;

create function admin.set_user_role(user_id uuid, role text)
returns public.profiles
language sql
set search_path = ''
as $$ select private.admin_set_user_role(user_id, role) $$;
grant execute on function admin.set_user_role(uuid, text) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Grants (policies live in sql/policies/)
-- ---------------------------------------------------------------------------------------------

grant select on public.plans to anon, authenticated, service_role, voxflow_sidecar;
grant select on public.profiles to authenticated, service_role, voxflow_sidecar;
-- Users may rename their organization and nothing else: role, plan, status and limits are
-- changed only through audited functions.
grant update (organization_name) on public.profiles to authenticated;
grant update on public.profiles to service_role, voxflow_sidecar;

grant select, insert, update on auth.users to voxflow_sidecar;
grant select, insert, update, delete on private.sessions, private.refresh_tokens,
private.one_time_tokens, private.outbox to voxflow_sidecar;
grant usage on all sequences in schema private to voxflow_sidecar;
grant select on private.rate_limit_rules to voxflow_sidecar;
grant select, delete on private.rate_limit_hits to voxflow_sidecar;
grant select on private.audit_log to voxflow_sidecar;
