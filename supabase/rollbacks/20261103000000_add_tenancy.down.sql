-- Undoes 20261103000000_add_tenancy. Agents and calls keep every v0 column and value; the
-- ownership columns, keys, notifications and subscriptions are dropped. On a database that
-- was upgraded from v0, `voxflow db rollback` restores the plaintext settings first.
drop function if exists admin.delete_user(uuid);
drop function if exists admin.set_limits(uuid, integer, bigint);
drop function if exists admin.change_plan(uuid, text);
drop function if exists public.set_active_agents(bigint []);
drop function if exists public.change_plan(text);
drop view if exists public.api_keys;
drop view if exists public.plan_comparison;
drop table if exists private.provider_keys;
drop table if exists public.notifications;
drop table if exists public.subscriptions;
drop table if exists private.platform_settings;
drop trigger if exists after_insert_start_subscription on public.profiles;
drop trigger if exists before_write_set_owner on public.calls;
drop trigger if exists after_delete_release_slot on public.agents;
drop trigger if exists before_write_2_enforce_limit on public.agents;
drop trigger if exists before_write_1_validate on public.agents;
drop function if exists private.admin_delete_user(uuid);
drop function if exists private.admin_set_limits(uuid, integer, bigint);
drop function if exists private.admin_change_plan(uuid, text);
drop function if exists private.assert_admin();
drop function if exists private.set_active_agents_for_caller(bigint []);
drop function if exists private.change_plan_for_caller(text);
drop function if exists private.tg_profiles__start_subscription();
drop function if exists private.tg_calls__set_owner();
drop function if exists private.tg_agents__release_slot();
drop function if exists private.tg_agents__enforce_limit();
drop function if exists private.tg_agents__validate();
drop function if exists private.delete_account(uuid, boolean);
drop function if exists private.change_plan(uuid, text, boolean);
drop function if exists private.apply_agent_limit(uuid);
drop function if exists private.notify(uuid, text, text, text, jsonb);
drop function if exists private.upgrade_suggestion(text, bigint);
drop function if exists private.effective_limits(uuid);

-- The audit trigger as the accounts migration defined it.
create or replace function private.tg_audit_log__forbid_change()
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

drop policy if exists "owners and admins read agents" on public.agents;
drop policy if exists "owners create agents" on public.agents;
drop policy if exists "owners update their agents" on public.agents;
drop policy if exists "owners delete their agents" on public.agents;
drop policy if exists "the sidecar reads agents" on public.agents;
drop policy if exists "owners and admins read calls" on public.calls;
drop policy if exists "the sidecar reads calls" on public.calls;
drop policy if exists "the sidecar records calls" on public.calls;
drop policy if exists "the sidecar updates calls" on public.calls;
alter table public.agents disable row level security;
alter table public.calls disable row level security;
alter table public.settings disable row level security;
revoke all on public.agents, public.calls, public.settings
from anon, authenticated, service_role, voxflow_sidecar;

drop index if exists public.calls_agent_id_idx;
alter table public.calls drop column if exists user_id;
alter table public.agents
drop constraint if exists agents_status_known,
drop constraint if exists agents_name_length,
drop constraint if exists agents_temperature_range,
drop constraint if exists agents_max_tokens_range,
drop constraint if exists agents_phone_number_e164,
drop constraint if exists agents_config_object,
drop column if exists status,
drop column if exists user_id;
alter table public.profiles drop column if exists agent_count;

drop table if exists public.model_catalog;
delete from public.plans where id in ('pro', 'business');
update public.plans set features = '{}' where id = 'free';
