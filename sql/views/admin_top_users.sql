-- admin.top_users: the 100 costliest users of each month, ranked when the rollups are folded
-- (?period_start=eq.2026-11-01&order=rank&limit=20). `as_of`: when they were ranked.
create or replace view admin.top_users
with (security_invoker = true)
as
select
    t.period_start,
    t.rank,
    t.user_id,
    p.email,
    p.organization_name,
    p.plan_id,
    t.tokens_used,
    t.provider_calls,
    t.cost_usd,
    t.refreshed_at as as_of
from private.top_users as t
inner join public.profiles as p on t.user_id = p.id;

comment on view admin.top_users is 'The costliest users per month (admins only).';
grant select on admin.top_users to authenticated, service_role;
