-- admin.daily_trends: per UTC day, sign-ups, active users, provider calls, tokens and cost,
-- from the platform rollups (?day=gte.2026-10-01&order=day). `as_of`: when they were folded.
create or replace view admin.daily_trends
with (security_invoker = true)
as
select
    a.period_start as day,
    a.signups,
    a.active_users,
    coalesce(u.provider_calls, 0) as provider_calls,
    coalesce(u.tokens, 0) as tokens,
    coalesce(u.cost_usd, 0) as cost_usd,
    a.refreshed_at as as_of
from private.platform_activity as a
left join lateral (
    select
        sum(d.events) as provider_calls,
        sum(d.input_tokens + d.output_tokens) as tokens,
        sum(d.cost_usd) as cost_usd
    from private.platform_daily as d
    where d.day = a.period_start
) as u on true
where a.granularity = 'day';

comment on view admin.daily_trends is 'Daily sign-ups, active users, calls, tokens and cost (admins only).';
grant select on admin.daily_trends to authenticated, service_role;
