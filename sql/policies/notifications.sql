-- public.notifications: owners read theirs and mark them read (read_at is the only column
-- they may write); admins read all. Written only by private.notify.
drop policy if exists "owners and admins read notifications" on public.notifications;
create policy "owners and admins read notifications" on public.notifications
for select to authenticated
using (user_id = any((select private.visible_user_ids())::uuid []));

drop policy if exists "owners mark their notifications read" on public.notifications;
create policy "owners mark their notifications read" on public.notifications
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));
