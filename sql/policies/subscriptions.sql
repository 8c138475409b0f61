-- public.subscriptions: owners read their plan history; admins read everyone's. Written only
-- by private.change_plan.
-- Admins read every row under their own role, voxflow_admin (see
-- 20261113000000_add_admin_api_role).
drop policy if exists "owners read their subscriptions" on public.subscriptions;
create policy "owners read their subscriptions" on public.subscriptions
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists "admins read all subscriptions" on public.subscriptions;
create policy "admins read all subscriptions" on public.subscriptions
for select to voxflow_admin using (true);
