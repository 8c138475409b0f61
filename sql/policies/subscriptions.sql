-- public.subscriptions: owners read their plan history; admins read everyone's. Written only
-- by private.change_plan.
-- An admin's own role, voxflow_admin, reads every row with no per-row check (see
-- 20261113000000_add_admin_api_role); an admin's plain `authenticated` token still reads all
-- through private.visible_user_ids().
drop policy if exists "owners and admins read subscriptions" on public.subscriptions;
create policy "owners and admins read subscriptions" on public.subscriptions
for select to authenticated
using (user_id = any((select private.visible_user_ids())::uuid []));

drop policy if exists "admins read all subscriptions" on public.subscriptions;
create policy "admins read all subscriptions" on public.subscriptions
for select to voxflow_admin using (true);
