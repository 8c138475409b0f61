-- admin.platform_totals: the platform at a glance, one row. Accounts, activity and agents as
-- the analytics jobs last counted them (`counted_at`, at most about 15 seconds old); this
-- month's usage from private.platform_daily, as of the last fold (`usage_as_of`, at most about
-- a minute old). Neither reads anything per account.
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
)

select
    c.users_total,
    c.users_active,
    c.users_suspended,
    c.users_pending_verification,
    c.admins,
    c.active_users_7d,
    c.active_users_30d,
    c.agents_active,
    c.agents_suspended,
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
    c.counted_at
from private.platform_counts as c
cross join usage
-- Only admins and the service role get the row (the counts' policy says the same).
where (select private.is_admin()) or (select auth.role()) = 'service_role';

comment on view admin.platform_totals is
'Users, activity, agents (as of counted_at) and this month''s usage (admins only).';
grant select on admin.platform_totals to authenticated, service_role;
