-- Purpose: tenancy. Every agent and call belongs to a user; agent input is validated with
--   readable errors; the agent limit is enforced in the database under concurrency; plans,
--   subscriptions (with history), graceful downgrades; users' encrypted provider keys (the
--   ciphertext is made by the sidecar, the master key never enters the database);
--   notifications (each also mailed); account deletion.
-- Objects: public.plans (Pro, Business rows), public.model_catalog, public.agents (+ user_id,
--   status, constraints, triggers), public.calls (+ user_id), public.settings (RLS),
--   public.profiles (+ agent_count), public.subscriptions, public.notifications,
--   private.provider_keys, private.platform_settings, functions for limits, plans, keys,
--   notifications and deletion; admin.* entry points.
-- Lock impact: adds columns with constant defaults (no table rewrite) and NOT VALID
--   constraints (no scan) to agents and calls; a v0 database's rows are assigned to the owner
--   named in the `voxflow.legacy_owner` setting (set by `voxflow db upgrade-legacy`), which
--   updates every agent and call row once.
-- Rollback: drops the new tables, functions and columns; agents and calls keep every v0
--   column and value (ownership, status, keys, notifications and subscriptions are lost).

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------

insert into public.plans (
    id, name, agent_limit, monthly_token_limit, monthly_price_usd, features, sort_order
)
values
(
    'pro', 'Pro', 10, 1000000, 29,
    '{"phone_numbers": 3, "support": "email", "analytics_days": 90}', 1
),
(
    'business', 'Business', 50, 10000000, 199,
    '{"phone_numbers": 20, "support": "priority", "analytics_days": 365}', 2
)
on conflict (id) do nothing;
update public.plans
set features = '{"phone_numbers": 1, "support": "community", "analytics_days": 30}'
where id = 'free' and features = '{}';

create table public.model_catalog (
    kind text not null check (kind in ('llm', 'stt', 'tts')),
    id text not null,
    provider text not null,
    label text not null,
    language text,
    primary key (kind, id)
);
comment on table public.model_catalog is 'The models and voices an agent may use.';
alter table public.model_catalog enable row level security;

insert into public.model_catalog (kind, id, provider, label, language)
values
('llm', 'llama-3.3-70b-versatile', 'groq', 'Llama 3.3 70B Versatile', null),
('llm', 'llama-3.1-8b-instant', 'groq', 'Llama 3.1 8B Instant', null),
('llm', 'openai/gpt-oss-120b', 'groq', 'GPT-OSS 120B', null),
('llm', 'openai/gpt-oss-20b', 'groq', 'GPT-OSS 20B', null),
('stt', 'nova-3', 'deepgram', 'Nova-3', null),
('stt', 'nova-2', 'deepgram', 'Nova-2', null),
('tts', 'aura-2-thalia-en', 'deepgram', 'Thalia (English, US)', 'en'),
('tts', 'aura-2-orion-en', 'deepgram', 'Orion (English, US)', 'en'),
('tts', 'aura-2-andromeda-en', 'deepgram', 'Andromeda (English, US)', 'en'),
('tts', 'aura-2-apollo-en', 'deepgram', 'Apollo (English, US)', 'en'),
('tts', 'aura-2-agathe-fr', 'deepgram', 'Agathe (French)', 'fr'),
('tts', 'aura-2-julius-de', 'deepgram', 'Julius (German)', 'de'),
('tts', 'aura-2-celeste-es', 'deepgram', 'Celeste (Spanish)', 'es');

create table private.platform_settings (
    key text primary key,
    value text not null,
    updated_at timestamptz not null default now()
);
comment on table private.platform_settings is 'Server-side platform facts, e.g. who owns legacy rows.';

alter table public.profiles
add column agent_count integer not null default 0 check (agent_count >= 0);
comment on column public.profiles.agent_count is 'Agents owned; kept by triggers, locked to enforce the limit.';

-- Agents: owned, with a status and validated input. Constraints are NOT VALID so rows of an
-- upgraded v0 database keep every value; every new or changed row is checked.
alter table public.agents
add column user_id uuid default auth.uid() references auth.users (id) on delete cascade,
add column status text not null default 'active';
alter table public.agents
add constraint agents_status_known
check (status in ('active', 'suspended_over_limit')),
add constraint agents_name_length check (char_length(name) between 1 and 100) not valid,
add constraint agents_temperature_range check (temperature between 0 and 2) not valid,
add constraint agents_max_tokens_range check (max_tokens between 1 and 8192) not valid,
add constraint agents_phone_number_e164
check (phone_number ~ '^\+[1-9][0-9]{6,14}$') not valid,
add constraint agents_config_object check (jsonb_typeof(config) = 'object') not valid;
comment on column public.agents.user_id is 'The owner; defaults to the caller.';
comment on column public.agents.status is 'suspended_over_limit: kept and editable, not callable.';
create index agents_user_id_idx on public.agents (user_id, created_at);

alter table public.calls
add column user_id uuid references auth.users (id) on delete cascade;
comment on column public.calls.user_id is 'The owner (the agent''s owner), set by trigger.';
create index calls_user_id_idx on public.calls (user_id, created_at);
create index calls_agent_id_idx on public.calls (agent_id);

-- Assign a v0 database's rows to the account `voxflow db upgrade-legacy` created.
do $$
declare
    v_owner uuid := nullif(current_setting('voxflow.legacy_owner', true), '')::uuid;
begin
    if v_owner is not null then
        insert into private.platform_settings (key, value)
        values ('legacy_owner', v_owner::text)
        on conflict (key) do update set value = excluded.value, updated_at = now();
        update public.agents set user_id = v_owner where user_id is null;
        update public.calls as c set user_id = a.user_id
        from public.agents as a
        where a.id = c.agent_id and c.user_id is null;
        update public.profiles
        set agent_count = (select count(*) from public.agents where user_id = v_owner)
        where id = v_owner;
    elsif exists (select 1 from public.agents where user_id is null) then
        raise exception 'public.agents has rows without an owner'
            using hint = 'Upgrade a v0 database with `voxflow db upgrade-legacy`.';
    end if;
end
$$;
alter table public.agents alter column user_id set not null;
alter table public.calls alter column user_id set not null;

alter table public.settings enable row level security;

create table public.subscriptions (
    id bigserial primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    plan_id text not null references public.plans (id),
    status text not null default 'active' check (status in ('active', 'ended')),
    period_start timestamptz not null default date_trunc('month', now()),
    period_end timestamptz not null default date_trunc('month', now()) + interval '1 month',
    changed_at timestamptz not null default now(),
    ended_at timestamptz
);
comment on table public.subscriptions is 'Plan history; one active row per user.';
create unique index subscriptions_one_active_idx on public.subscriptions (user_id)
where status = 'active';
create index subscriptions_user_id_idx on public.subscriptions (user_id, changed_at);
alter table public.subscriptions enable row level security;

insert into public.subscriptions (user_id, plan_id)
select
    p.id,
    p.plan_id
from public.profiles as p;

create table public.notifications (
    id bigserial primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    kind text not null,
    title text not null,
    body text not null,
    data jsonb not null default '{}',
    created_at timestamptz not null default now(),
    read_at timestamptz
);
comment on table public.notifications is 'Messages to a user (each also mailed); they mark them read.';
create index notifications_user_id_idx on public.notifications (user_id, created_at desc);
alter table public.notifications enable row level security;

create table private.provider_keys (
    id bigserial primary key,
    user_id uuid not null references auth.users (id) on delete cascade,
    provider text not null check (provider in ('groq', 'deepgram', 'twilio')),
    ciphertext bytea not null,
    nonce bytea not null unique check (octet_length(nonce) = 12),
    key_version integer not null,
    hint text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    last_used_at timestamptz,
    unique (user_id, provider)
);
comment on table private.provider_keys is
'Users'' provider credentials, AES-256-GCM by the sidecar (owner and provider bound as AAD).';
comment on column private.provider_keys.nonce is 'Fresh 96-bit nonce per value; unique, so never reused.';
comment on column private.provider_keys.hint is 'Last 4 characters of the secret, for recognition.';
alter table private.provider_keys enable row level security;
create index provider_keys_key_version_idx on private.provider_keys (key_version);

-- ---------------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------------

-- The limits in force for a user: an admin's override, else the plan's.
create function private.effective_limits(p_user_id uuid)
returns table (agent_limit integer, monthly_token_limit bigint, plan_id text, plan_name text)
language sql
stable
security definer
set search_path = ''
as $$
    select
        coalesce(p.agent_limit_override, pl.agent_limit),
        coalesce(p.monthly_token_limit_override, pl.monthly_token_limit),
        pl.id,
        pl.name
    from public.profiles as p
    join public.plans as pl on pl.id = p.plan_id
    where p.id = p_user_id
$$;
grant execute on function private.effective_limits(uuid) to authenticated, service_role,
voxflow_sidecar;

-- The cheapest plan that would lift a limit: 'agents' or 'tokens' above `p_needed`.
create function private.upgrade_suggestion(p_limit text, p_needed bigint)
returns public.plans
language sql
stable
set search_path = ''
as $$
    select pl.* from public.plans as pl
    where case when p_limit = 'agents' then pl.agent_limit else pl.monthly_token_limit end
        >= p_needed
    order by pl.sort_order
    limit 1
$$;
grant execute on function private.upgrade_suggestion(text, bigint) to authenticated,
service_role, voxflow_sidecar;

-- Tell a user something, in the app and by mail (through the outbox, in this transaction).
-- security definer: callers write notifications and mail for users they act on.
create function private.notify(
    p_user_id uuid, p_kind text, p_title text, p_body text, p_data jsonb default '{}'
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_id bigint;
begin
    insert into public.notifications (user_id, kind, title, body, data)
    values (p_user_id, p_kind, p_title, p_body, p_data)
    returning id into v_id;
    insert into private.outbox (user_id, to_email, subject, body_text, kind)
    select p_user_id, u.email, 'VoxFlow: ' || p_title, p_body || E'\n', 'notification'
    from auth.users as u where u.id = p_user_id and u.email is not null;
    perform pg_notify('voxflow_outbox', '');
    return v_id;
end
$$;
grant execute on function private.notify(uuid, text, text, text, jsonb) to voxflow_sidecar;

-- Bring a user's agents in line with their agent limit: beyond it the newest are suspended
-- (kept, editable, deletable, not callable); under it suspended ones come back, oldest first.
-- Returns the ids it suspended and reactivated. security definer: it changes `status`, which
-- users cannot write.
create function private.apply_agent_limit(p_user_id uuid, out suspended bigint [], out reactivated bigint [])
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_limit integer := (select l.agent_limit from private.effective_limits(p_user_id) as l);
begin
    with ranked as (
        select a.id, a.status,
            row_number() over (
                order by (a.status = 'active') desc, a.created_at, a.id
            ) as n
        from public.agents as a where a.user_id = p_user_id
    ),
    changed as (
        update public.agents as a
        set status = case when r.n <= v_limit then 'active' else 'suspended_over_limit' end,
            updated_at = now()
        from ranked as r
        where a.id = r.id
            and a.status <> case when r.n <= v_limit then 'active' else 'suspended_over_limit' end
        returning a.id, a.status
    )
    select
        coalesce(array_agg(c.id order by c.id) filter (where c.status = 'suspended_over_limit'), '{}'),
        coalesce(array_agg(c.id order by c.id) filter (where c.status = 'active'), '{}')
    into suspended, reactivated
    from changed as c;
    if cardinality(suspended) > 0 then
        perform private.notify(
            p_user_id, 'agents_suspended', 'Some agents were paused',
            format(
                'Your plan allows %s agents, so %s agent(s) were paused: they are kept and '
                || 'editable but cannot take calls. Choose which agents stay active, delete '
                || 'some, or upgrade your plan.', v_limit, cardinality(suspended)
            ),
            jsonb_build_object('agent_ids', to_jsonb(suspended), 'agent_limit', v_limit)
        );
    end if;
end
$$;
grant execute on function private.apply_agent_limit(uuid) to voxflow_sidecar;

-- Change a user's plan now (no payment step: billing is out of scope). Limits change in the
-- same transaction; a downgrade suspends the newest agents beyond the new limit.
-- security definer: it writes plan, subscription and agent status, which users cannot.
create function private.change_plan(p_user_id uuid, p_plan_id text, p_by_admin boolean)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_old public.profiles;
    v_plan public.plans;
    v_result record;
begin
    select * into v_plan from public.plans where id = p_plan_id;
    if not found then
        perform private.raise_error(
            400, 'unknown_plan', format('There is no plan %L', p_plan_id), null,
            'See /rest/v1/plans for the available plans.'
        );
    end if;
    select * into v_old from public.profiles where id = p_user_id for update;
    if not found then
        perform private.raise_error(404, 'user_not_found', 'No user with this id');
    end if;
    if v_old.plan_id = p_plan_id then
        return jsonb_build_object('plan_id', p_plan_id, 'changed', false,
            'suspended_agent_ids', '[]'::jsonb, 'reactivated_agent_ids', '[]'::jsonb);
    end if;
    update public.profiles set plan_id = p_plan_id where id = p_user_id;
    update public.subscriptions set status = 'ended', ended_at = now()
    where user_id = p_user_id and status = 'active';
    insert into public.subscriptions (user_id, plan_id) values (p_user_id, p_plan_id);
    select * into v_result from private.apply_agent_limit(p_user_id);
    perform private.audit(
        case when p_by_admin then 'admin.plan_changed' else 'user.plan_changed' end,
        'user', p_user_id::text,
        jsonb_build_object('plan_id', v_old.plan_id), jsonb_build_object('plan_id', p_plan_id)
    );
    perform private.notify(
        p_user_id, 'plan_changed', format('You are now on the %s plan', v_plan.name),
        format(
            'Your plan changed from %s to %s. Limits now: %s agents and %s tokens a month.',
            v_old.plan_id, v_plan.name,
            (select l.agent_limit from private.effective_limits(p_user_id) as l),
            (select l.monthly_token_limit from private.effective_limits(p_user_id) as l)
        ),
        jsonb_build_object('from', v_old.plan_id, 'to', p_plan_id)
    );
    return jsonb_build_object(
        'plan_id', p_plan_id, 'changed', true,
        'suspended_agent_ids', to_jsonb(v_result.suspended),
        'reactivated_agent_ids', to_jsonb(v_result.reactivated)
    );
end
$$;
grant execute on function private.change_plan(uuid, text, boolean) to voxflow_sidecar;

-- Remove a user and everything they own (cascades from auth.users), leaving only a
-- non-identifying audit entry of the deletion: earlier entries about them are redacted.
-- security definer: it deletes from auth.users and redacts the append-only audit log.
create function private.delete_account(p_user_id uuid, p_by_admin boolean)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    if not exists (select 1 from auth.users where id = p_user_id) then
        perform private.raise_error(404, 'user_not_found', 'No user with this id');
    end if;
    perform set_config('voxflow.audit_erasure', p_user_id::text, true);
    update private.audit_log
    set actor_email = null, ip = null, before = null, after = null,
        target_id = case when target_id = p_user_id::text then null else target_id end
    where actor_id = p_user_id or target_id = p_user_id::text
        or target_id = (select lower(u.email) from auth.users as u where u.id = p_user_id);
    perform set_config('voxflow.audit_erasure', '', true);
    delete from auth.users where id = p_user_id;
    perform private.audit(
        case when p_by_admin then 'admin.account_deleted' else 'user.account_deleted' end,
        'user', null, null, null,
        case when p_by_admin then auth.uid() end
    );
end
$$;
grant execute on function private.delete_account(uuid, boolean) to voxflow_sidecar;

-- The audit log stays append-only except for the redaction an account deletion performs.
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
        and new.actor_email is null and new.ip is null and new.before is null
        and new.after is null then
        return new;
    end if;
    perform private.raise_error(
        403, 'audit_log_append_only', 'The audit log is append-only',
        null, 'Record a correction as a new entry.'
    );
    return null;
end
$$;

-- ---------------------------------------------------------------------------------------------
-- Triggers
-- ---------------------------------------------------------------------------------------------

-- Readable errors for agent input, before the constraints (which remain the backstop).
create function private.tg_agents__validate()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_problem text;
    v_field text;
begin
    -- v0-style writes with the service key carry no owner: they go to the legacy owner.
    if new.user_id is null then
        new.user_id := (select s.value::uuid from private.platform_settings as s
                        where s.key = 'legacy_owner');
    end if;
    if new.user_id is null then
        perform private.raise_error(
            400, 'owner_required', 'An agent needs an owner', 'user_id',
            'Create agents with a user''s token, or name the owner in user_id.'
        );
    end if;
    if char_length(btrim(new.name)) not between 1 and 100 then
        v_field := 'name'; v_problem := 'Name must be 1 to 100 characters';
    elsif new.temperature not between 0 and 2 then
        v_field := 'temperature'; v_problem := 'Temperature must be between 0 and 2';
    elsif new.max_tokens not between 1 and 8192 then
        v_field := 'max_tokens'; v_problem := 'max_tokens must be between 1 and 8192';
    elsif new.phone_number is not null and new.phone_number !~ '^\+[1-9][0-9]{6,14}$' then
        v_field := 'phone_number';
        v_problem := 'Phone number must be in E.164 form, like +14155550123';
    elsif jsonb_typeof(new.config) is distinct from 'object' then
        v_field := 'config'; v_problem := 'config must be a JSON object';
    elsif (tg_op = 'INSERT' or new.llm_model is distinct from old.llm_model)
        and not exists (select 1 from public.model_catalog as m
                        where m.kind = 'llm' and m.id = new.llm_model) then
        v_field := 'llm_model';
        v_problem := format('Unknown LLM model %L; see /rest/v1/model_catalog?kind=eq.llm', new.llm_model);
    elsif (tg_op = 'INSERT' or new.stt_model is distinct from old.stt_model)
        and not exists (select 1 from public.model_catalog as m
                        where m.kind = 'stt' and m.id = new.stt_model) then
        v_field := 'stt_model';
        v_problem := format('Unknown speech-to-text model %L; see /rest/v1/model_catalog?kind=eq.stt', new.stt_model);
    elsif (tg_op = 'INSERT' or new.tts_voice is distinct from old.tts_voice)
        and not exists (select 1 from public.model_catalog as m
                        where m.kind = 'tts' and m.id = new.tts_voice) then
        v_field := 'tts_voice';
        v_problem := format('Unknown voice %L; see /rest/v1/model_catalog?kind=eq.tts', new.tts_voice);
    end if;
    if v_problem is not null then
        perform private.raise_error(400, 'invalid_agent', v_problem, v_field);
    end if;
    if tg_op = 'UPDATE' then
        new.updated_at := now();
    end if;
    return new;
end
$$;

-- Triggers fire in name order: the owner is settled (1) before the limit is checked (2).
create trigger before_write_1_validate
before insert or update on public.agents
for each row execute function private.tg_agents__validate();

-- The agent limit, held under concurrency: the owner's profile row is locked, so two inserts
-- for one user run one after the other and see each other's count.
-- security definer: it reads and updates the owner's counter, which users cannot write.
create function private.tg_agents__enforce_limit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_count integer;
    v_limits record;
    v_next public.plans;
begin
    select p.agent_count into v_count from public.profiles as p
    where p.id = new.user_id for update;
    select * into v_limits from private.effective_limits(new.user_id);
    if v_count >= v_limits.agent_limit then
        v_next := private.upgrade_suggestion('agents', v_count + 1);
        perform private.raise_error(
            402, 'agent_limit_reached',
            format('You have %s of %s agents on the %s plan', v_count, v_limits.agent_limit,
                v_limits.plan_name),
            json_build_object('agent_count', v_count, 'agent_limit', v_limits.agent_limit,
                'plan_id', v_limits.plan_id, 'upgrade_to', v_next.id)::text,
            case
                when v_next.id is null then 'Delete an agent to make room.'
                else format('Upgrade to %s for %s agents, or delete an agent to make room.',
                    v_next.name, v_next.agent_limit)
            end
        );
    end if;
    update public.profiles set agent_count = agent_count + 1 where id = new.user_id;
    return new;
end
$$;

create trigger before_write_2_enforce_limit
before insert on public.agents
for each row execute function private.tg_agents__enforce_limit();

-- Deleting an agent frees its slot at once.
-- security definer: it updates the owner's counter.
create function private.tg_agents__release_slot()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    update public.profiles set agent_count = greatest(agent_count - 1, 0)
    where id = old.user_id;
    return null;
end
$$;

create trigger after_delete_release_slot
after delete on public.agents
for each row execute function private.tg_agents__release_slot();

-- A call belongs to its agent's owner.
create function private.tg_calls__set_owner()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    new.user_id := (select a.user_id from public.agents as a where a.id = new.agent_id);
    return new;
end
$$;

create trigger before_write_set_owner
before insert or update of agent_id on public.calls
for each row execute function private.tg_calls__set_owner();

-- Every new account starts a Free subscription.
create function private.tg_profiles__start_subscription()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    insert into public.subscriptions (user_id, plan_id) values (new.id, new.plan_id);
    return null;
end
$$;

create trigger after_insert_start_subscription
after insert on public.profiles
for each row execute function private.tg_profiles__start_subscription();

-- ---------------------------------------------------------------------------------------------
-- API functions
-- ---------------------------------------------------------------------------------------------

-- POST /rest/v1/rpc/change_plan {"plan_id": "pro"}: the caller's own plan.
create function public.change_plan(plan_id text)
returns jsonb
language plpgsql
security invoker
set search_path = ''
as $$
begin
    if auth.uid() is null then
        perform private.raise_error(401, 'not_signed_in', 'Sign in to change your plan');
    end if;
    return private.change_plan_for_caller(plan_id);
end
$$;

-- security definer: users may change their own plan, which they cannot write directly.
create function private.change_plan_for_caller(p_plan_id text)
returns jsonb
language sql
security definer
set search_path = ''
as $$ select private.change_plan(auth.uid(), p_plan_id, false) $$;
grant execute on function private.change_plan_for_caller(text) to authenticated;
grant execute on function public.change_plan(text) to authenticated;

-- POST /rest/v1/rpc/set_active_agents {"agent_ids": [..]}: which agents stay active when
-- the user has more than their limit allows.
create function private.set_active_agents_for_caller(p_agent_ids bigint [])
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_user uuid := auth.uid();
    v_limit integer := (select l.agent_limit from private.effective_limits(v_user) as l);
    v_known integer;
begin
    p_agent_ids := array(select distinct unnest(p_agent_ids));
    if cardinality(p_agent_ids) > v_limit then
        perform private.raise_error(
            400, 'too_many_active_agents',
            format('Your plan allows %s active agents; you chose %s', v_limit,
                cardinality(p_agent_ids)),
            null, 'Choose fewer agents, or upgrade your plan.'
        );
    end if;
    select count(*) into v_known from public.agents
    where user_id = v_user and id = any(p_agent_ids);
    if v_known <> cardinality(p_agent_ids) then
        perform private.raise_error(404, 'agent_not_found', 'Some of these agents are not yours');
    end if;
    update public.agents set status = case
            when id = any(p_agent_ids) then 'active'
            when (select count(*) from public.agents where user_id = v_user) <= v_limit
                then 'active'
            else 'suspended_over_limit'
        end
    where user_id = v_user;
    return (
        select jsonb_build_object(
            'active', coalesce(jsonb_agg(id order by id) filter (where status = 'active'), '[]'),
            'suspended', coalesce(jsonb_agg(id order by id)
                filter (where status = 'suspended_over_limit'), '[]')
        )
        from public.agents where user_id = v_user
    );
end
$$;
grant execute on function private.set_active_agents_for_caller(bigint []) to authenticated;

create function public.set_active_agents(agent_ids bigint [])
returns jsonb
language sql
security invoker
set search_path = ''
as $$ select private.set_active_agents_for_caller(agent_ids) $$;
grant execute on function public.set_active_agents(bigint []) to authenticated;

-- Admin entry points (Content-Profile: admin). Each checks admin rights in the database and
-- audits in the same transaction.
create function private.assert_admin()
returns void
language plpgsql
stable
set search_path = ''
as $$
begin
    if not private.is_admin() and auth.role() is distinct from 'service_role' then
        perform private.raise_error(403, 'not_admin', 'Only admins may do this');
    end if;
end
$$;
grant execute on function private.assert_admin() to authenticated, service_role;

-- security definer: admins act on other users' plans.
create function private.admin_change_plan(p_user_id uuid, p_plan_id text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.assert_admin();
    return private.change_plan(p_user_id, p_plan_id, true);
end
$$;
grant execute on function private.admin_change_plan(uuid, text) to authenticated, service_role;

create function admin.change_plan(user_id uuid, plan_id text)
returns jsonb
language sql
set search_path = ''
as $$ select private.admin_change_plan(user_id, plan_id) $$;
grant execute on function admin.change_plan(uuid, text) to authenticated, service_role;

-- Per-user overrides of the plan's limits (null = back to the plan's). The user is told.
-- security definer: admins write other users' protected columns.
create function private.admin_set_limits(
    p_user_id uuid, p_agent_limit integer, p_monthly_token_limit bigint
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_before record;
    v_after record;
    v_result record;
begin
    perform private.assert_admin();
    if p_agent_limit < 0 or p_monthly_token_limit < 0 then
        perform private.raise_error(400, 'invalid_limit', 'Limits cannot be negative');
    end if;
    perform 1 from public.profiles where id = p_user_id for update;
    if not found then
        perform private.raise_error(404, 'user_not_found', 'No user with this id');
    end if;
    select * into v_before from private.effective_limits(p_user_id);
    update public.profiles
    set agent_limit_override = p_agent_limit, monthly_token_limit_override = p_monthly_token_limit
    where id = p_user_id;
    select * into v_after from private.effective_limits(p_user_id);
    select * into v_result from private.apply_agent_limit(p_user_id);
    perform private.audit(
        'admin.limits_changed', 'user', p_user_id::text,
        jsonb_build_object('agent_limit', v_before.agent_limit,
            'monthly_token_limit', v_before.monthly_token_limit),
        jsonb_build_object('agent_limit', v_after.agent_limit,
            'monthly_token_limit', v_after.monthly_token_limit)
    );
    perform private.notify(
        p_user_id, 'limits_changed', 'Your limits were changed',
        format('An administrator changed your limits: agents %s → %s, tokens a month %s → %s.',
            v_before.agent_limit, v_after.agent_limit,
            v_before.monthly_token_limit, v_after.monthly_token_limit),
        jsonb_build_object(
            'before', jsonb_build_object('agent_limit', v_before.agent_limit,
                'monthly_token_limit', v_before.monthly_token_limit),
            'after', jsonb_build_object('agent_limit', v_after.agent_limit,
                'monthly_token_limit', v_after.monthly_token_limit)
        )
    );
    return jsonb_build_object(
        'agent_limit', v_after.agent_limit, 'monthly_token_limit', v_after.monthly_token_limit,
        'suspended_agent_ids', to_jsonb(v_result.suspended),
        'reactivated_agent_ids', to_jsonb(v_result.reactivated)
    );
end
$$;
grant execute on function private.admin_set_limits(uuid, integer, bigint) to authenticated,
service_role;

create function admin.set_limits(user_id uuid, agent_limit integer, monthly_token_limit bigint)
returns jsonb
language sql
set search_path = ''
as $$ select private.admin_set_limits(user_id, agent_limit, monthly_token_limit) $$;
grant execute on function admin.set_limits(uuid, integer, bigint) to authenticated, service_role;

-- security definer: admins delete other accounts.
create function private.admin_delete_user(p_user_id uuid)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.assert_admin();
    if p_user_id = auth.uid() then
        perform private.raise_error(409, 'cannot_delete_self',
            'Delete your own account from your account settings instead');
    end if;
    perform private.delete_account(p_user_id, true);
end
$$;
grant execute on function private.admin_delete_user(uuid) to authenticated, service_role;

create function admin.delete_user(user_id uuid)
returns void
language sql
set search_path = ''
as $$ select private.admin_delete_user(user_id) $$;
grant execute on function admin.delete_user(uuid) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Grants (policies live in sql/policies/, views in sql/views/)
-- ---------------------------------------------------------------------------------------------

revoke all on public.agents, public.calls, public.settings from anon, authenticated;
grant select, insert, delete on public.agents to authenticated;
grant update (
    name, description, system_prompt, first_message, llm_model, temperature, max_tokens,
    stt_model, tts_voice, language, phone_number, config, is_active
) on public.agents to authenticated;
grant usage on sequence public.agents_id_seq to authenticated;
grant select on public.calls to authenticated;
grant all on public.agents, public.calls, public.settings to service_role;
grant usage on all sequences in schema public to service_role;
grant select, insert, update on public.agents, public.calls to voxflow_sidecar;
grant usage on sequence public.calls_id_seq to voxflow_sidecar;

grant select on public.model_catalog to anon, authenticated, service_role;
grant select on public.subscriptions to authenticated, service_role;
grant select on public.notifications to authenticated, service_role;
grant update (read_at) on public.notifications to authenticated;
grant select, insert, update, delete on private.provider_keys to voxflow_sidecar;
grant usage on sequence private.provider_keys_id_seq to voxflow_sidecar;
-- The api_keys view runs with the caller's rights: never the ciphertext or nonce columns.
grant select (user_id, provider, hint, updated_at, last_used_at) on private.provider_keys
to authenticated;
grant select on private.platform_settings to voxflow_sidecar;
