-- admin.monthly_trends: per UTC month, sign-ups, distinct active users, provider calls,
-- tokens and cost, from the platform rollups. `as_of`: when they were folded.
create or replace view admin.monthly_trends
with (security_invoker = true)
as
select
    a.period_start as month,
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
    where
        d.day >= a.period_start
        and d.day < (a.period_start + interval '1 month')::date
) as u on true
where a.granularity = 'month';

comment on view admin.monthly_trends is 'Monthly sign-ups, active users, calls, tokens and cost (admins only).';
grant select on admin.monthly_trends to authenticated, service_role;
