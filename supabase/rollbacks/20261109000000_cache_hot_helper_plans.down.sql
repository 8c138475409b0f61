-- Undoes 20261109000000_cache_hot_helper_plans: the helpers' SQL bodies again.
create or replace function private.is_admin()
returns boolean
language sql
stable
security definer
set search_path = ''
as $$
    select exists (
        select 1 from public.profiles as p
        where p.id = auth.uid() and p.role = 'admin' and p.status = 'active'
    )
$$;

create or replace function private.visible_user_ids()
returns uuid []
language sql
stable
security definer
set search_path = ''
as $$
    select case
        when private.is_admin() then array(select p.id from public.profiles as p)
        else array[auth.uid()]
    end
$$;

create or replace function private.effective_limits(p_user_id uuid)
returns table (agent_limit integer, monthly_token_limit bigint, plan_id text, plan_name text)
language sql
stable
security definer
set search_path = ''
as $$
    select
        coalesce(p.agent_limit_override, pl.agent_limit),
        coalesce(p.monthly_token_limit_override, pl.monthly_token_limit),
        pl.id,
        pl.name
    from public.profiles as p
    join public.plans as pl on pl.id = p.plan_id
    where p.id = p_user_id
$$;
