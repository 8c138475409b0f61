-- public.usage_summary: the caller's current month at a glance, from the counters (never a
-- scan of events): tokens used / limit / percent, cost, days until the reset.
create or replace view public.usage_summary
with (security_invoker = true)
as
with period as (
    select date_trunc('month', now() at time zone 'UTC')::date as period_start
)

select
    p.id as user_id,
    period.period_start,
    (period.period_start + interval '1 month')::date as resets_on,
    ((period.period_start + interval '1 month')::date - (now() at time zone 'UTC')::date)
    as days_until_reset,
    l.plan_id,
    l.plan_name,
    coalesce(c.tokens_used, 0) as tokens_used,
    coalesce(c.tokens_reserved, 0) as tokens_reserved,
    l.monthly_token_limit as token_limit,
    round(100.0 * coalesce(c.tokens_used, 0) / nullif(l.monthly_token_limit, 0), 1)
    as tokens_percent,
    coalesce(c.cost_usd, 0) as cost_usd,
    pl.monthly_cost_limit_usd as cost_limit_usd,
    coalesce(c.audio_seconds, 0) as audio_seconds,
    coalesce(c.characters, 0) as characters,
    coalesce(c.call_seconds, 0) as call_seconds,
    coalesce(c.events, 0) as events
from public.profiles as p
cross join period
cross join lateral private.effective_limits(p.id) as l
inner join public.plans as pl on l.plan_id = pl.id
left join public.usage_counters as c
    on p.id = c.user_id and period.period_start = c.period_start
where p.id = (select auth.uid());

comment on view public.usage_summary is 'The caller''s current-month usage, limits and reset date.';
grant select on public.usage_summary to authenticated;
