-- public.subscriptions: owners read their plan history; admins read everyone's. Written only
-- by private.change_plan.
drop policy if exists "owners and admins read subscriptions" on public.subscriptions;
create policy "owners and admins read subscriptions" on public.subscriptions
for select to authenticated
using (user_id = any((select private.visible_user_ids())::uuid []));
