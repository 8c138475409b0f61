-- public.notifications: owners read theirs and mark them read (read_at is the only column
-- they may write); admins read all. Written only by private.notify.
-- Admins read every row under their own role, voxflow_admin (see
-- 20261113000000_add_admin_api_role).
drop policy if exists "owners read their notifications" on public.notifications;
create policy "owners read their notifications" on public.notifications
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists "admins read all notifications" on public.notifications;
create policy "admins read all notifications" on public.notifications
for select to voxflow_admin using (true);

drop policy if exists "owners mark their notifications read" on public.notifications;
create policy "owners mark their notifications read" on public.notifications
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));
