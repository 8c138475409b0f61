-- public.profiles: users see and rename their own profile; admins read everyone's. Unlike
-- the other tables this keeps the OR form: tenants read their profile by id (the views filter
-- on it), and admin.users_overview's trigram search plans best from this shape.
-- Role, plan, status and limits have no column grant for users (see the accounts migration).
-- An admin's own role, voxflow_admin, reads every row with no per-row check (see
-- 20261113000000_add_admin_api_role); an admin's plain `authenticated` token still reads all
-- through the is_admin() arm below.
drop policy if exists "owners and admins read profiles" on public.profiles;
create policy "owners and admins read profiles" on public.profiles
for select to authenticated
using (id = (select auth.uid()) or (select private.is_admin()));

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
