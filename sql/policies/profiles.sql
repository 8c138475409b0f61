-- public.profiles: users see and rename their own profile; admins read everyone's under their
-- own role, voxflow_admin (see 20261113000000_add_admin_api_role). Role, plan, status and
-- limits have no column grant for users (see the accounts migration).
drop policy if exists "owners read their profile" on public.profiles;
create policy "owners read their profile" on public.profiles
for select to authenticated
using (id = (select auth.uid()));

drop policy if exists "admins read all profiles" on public.profiles;
create policy "admins read all profiles" on public.profiles
for select to voxflow_admin using (true);

drop policy if exists "owners update their profile" on public.profiles;
create policy "owners update their profile" on public.profiles
for update to authenticated
using (id = (select auth.uid()))
with check (id = (select auth.uid()));

-- The sidecar signs people in and must see their role and status (it never acts as them here).
drop policy if exists "the sidecar reads profiles" on public.profiles;
create policy "the sidecar reads profiles" on public.profiles
for select to voxflow_sidecar using (true);
