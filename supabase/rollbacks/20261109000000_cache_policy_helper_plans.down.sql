-- Undoes 20261109000000_cache_policy_helper_plans: the helpers' SQL bodies again.
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
