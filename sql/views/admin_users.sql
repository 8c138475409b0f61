-- admin.users: every account with its status and plan, for the admin surface. Reads profiles
-- with the caller's rights (security_invoker): RLS shows admins every row.
create or replace view admin.users
with (security_invoker = true)
as
select
    p.id,
    p.email,
    p.organization_name,
    p.role,
    p.status,
    p.plan_id,
    p.agent_limit_override,
    p.monthly_token_limit_override,
    p.last_sign_in_at,
    p.created_at
from public.profiles as p;

comment on view admin.users is 'All accounts (admins only; the request check answers 403 to others).';
grant select on admin.users to authenticated, service_role;
