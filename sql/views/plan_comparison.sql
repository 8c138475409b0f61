-- public.plan_comparison: every plan beside the caller's current usage, for the upgrade page.
create or replace view public.plan_comparison
with (security_invoker = true)
as
select
    pl.id as plan_id,
    pl.name,
    pl.agent_limit,
    pl.monthly_token_limit,
    pl.monthly_price_usd,
    pl.features,
    pl.sort_order,
    pl.id = p.plan_id as is_current,
    p.agent_count as agents_used,
    pl.agent_limit >= p.agent_count as fits_current_agents,
    -- Columns are only ever appended: `create or replace view` cannot reorder them.
    pl.requests_per_minute,
    pl.monthly_cost_limit_usd,
    coalesce(c.tokens_used, 0) as tokens_used_this_month,
    pl.monthly_token_limit >= coalesce(c.tokens_used, 0) as fits_current_tokens
from public.plans as pl
cross join public.profiles as p
left join public.usage_counters as c
    on
        p.id = c.user_id
        and c.period_start = date_trunc('month', now() at time zone 'UTC')::date
where p.id = (select auth.uid());

comment on view public.plan_comparison is 'Plans side by side with the caller''s usage.';
grant select on public.plan_comparison to authenticated;
