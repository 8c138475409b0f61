-- admin.users_overview: one row per account with its plan, limits, this month's usage and
-- activity, for the admin's user list. Filter, search, sort and page with PostgREST operators:
-- ?status=eq.suspended&plan_id=eq.pro&over_quota=is.true&last_active_at=gte.2026-11-01
-- &search=ilike.*acme*&order=cost_usd.desc&limit=50. `search` and `last_active_at` come from
-- private.user_directory (trigram and btree indexes, no RLS, so the indexes serve ILIKE);
-- profiles' RLS still decides the rows. Usage comes from the month's counters, never events.
create or replace view admin.users_overview
with (security_invoker = true)
as
select
    p.id as user_id,
    p.email,
    p.organization_name,
    p.role,
    p.status,
    p.plan_id,
    pl.name as plan_name,
    p.agent_count,
    coalesce(p.agent_limit_override, pl.agent_limit) as agent_limit,
    coalesce(c.tokens_used, 0) as tokens_used,
    coalesce(p.monthly_token_limit_override, pl.monthly_token_limit) as token_limit,
    coalesce(c.cost_usd, 0) as cost_usd,
    p.last_sign_in_at,
    d.last_active_at,
    p.created_at,
    coalesce(c.tokens_used, 0)
    >= 0.8 * coalesce(p.monthly_token_limit_override, pl.monthly_token_limit) as near_quota,
    coalesce(c.tokens_used, 0)
    >= coalesce(p.monthly_token_limit_override, pl.monthly_token_limit) as over_quota,
    d.search
from private.user_directory as d
inner join public.profiles as p on d.user_id = p.id
inner join public.plans as pl on p.plan_id = pl.id
left join public.usage_counters as c
    on
        p.id = c.user_id
        and c.period_start = date_trunc('month', now() at time zone 'UTC')::date;

comment on view admin.users_overview is
'Every account with plan, limits, this month''s usage, activity and quota flags (admins only).';
comment on column admin.users_overview.search is
'lower(email || '' '' || organization_name): filter with ?search=ilike.*text*.';
comment on column admin.users_overview.near_quota is 'At least 80 % of the month''s tokens used.';
grant select on admin.users_overview to authenticated, service_role;
