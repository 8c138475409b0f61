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
    pl.agent_limit >= p.agent_count as fits_current_agents
from public.plans as pl
cross join public.profiles as p
where p.id = (select auth.uid());

comment on view public.plan_comparison is 'Plans side by side with the caller''s usage.';
grant select on public.plan_comparison to authenticated;
