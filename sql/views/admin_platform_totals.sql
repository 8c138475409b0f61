-- admin.platform_totals: the platform at a glance, one row. Users and agents are counted now
-- (agents through private.platform_agent_counts(), not the policy's array of every owner);
-- activity comes from the directory's last-activity index; this month's usage from
-- private.platform_daily, as of the last fold (`usage_as_of`, at most about a minute old).
create or replace view admin.platform_totals
with (security_invoker = true)
as
with usage as (
    select
        coalesce(sum(d.events), 0) as provider_calls,
        coalesce(sum(d.failures), 0) as failed_calls,
        coalesce(sum(d.input_tokens + d.output_tokens), 0) as tokens,
        round(coalesce(sum(d.audio_seconds), 0) / 60, 2) as audio_minutes,
        coalesce(sum(d.characters), 0) as characters,
        round(coalesce(sum(d.call_seconds), 0) / 60, 2) as call_minutes,
        coalesce(sum(d.cost_usd), 0) as cost_usd
    from private.platform_daily as d
    where d.day >= date_trunc('month', now() at time zone 'UTC')::date
),

users as (
    select
        count(*) as users_total,
        count(*) filter (where p.status = 'active') as users_active,
        count(*) filter (where p.status = 'suspended') as users_suspended,
        count(*) filter (where p.status = 'pending_verification') as users_pending_verification,
        count(*) filter (where p.role = 'admin') as admins
    from public.profiles as p
),

agents as (
    select
        a.agents_active,
        a.agents_suspended
    from private.platform_agent_counts() as a
)

select
    users.users_total,
    users.users_active,
    users.users_suspended,
    users.users_pending_verification,
    users.admins,
    (
        select count(*) from private.user_directory as d
        where d.last_active_at >= now() - interval '7 days'
    ) as active_users_7d,
    (
        select count(*) from private.user_directory as d
        where d.last_active_at >= now() - interval '30 days'
    ) as active_users_30d,
    agents.agents_active,
    agents.agents_suspended,
    date_trunc('month', now() at time zone 'UTC')::date as period_start,
    usage.provider_calls,
    usage.failed_calls,
    usage.tokens,
    usage.audio_minutes,
    usage.characters,
    usage.call_minutes,
    usage.cost_usd,
    (select j.last_run_at from private.job_runs as j where j.job = 'refresh_analytics')
    as usage_as_of,
    now() as counted_at
from users
cross join agents
cross join usage
-- The directory has no RLS (see its comment): only admins and the service role get the row.
where (select private.is_admin()) or (select auth.role()) = 'service_role';

comment on view admin.platform_totals is 'Users, activity, agents and this month''s usage (admins only).';
grant select on admin.platform_totals to authenticated, service_role;
