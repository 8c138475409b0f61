-- private.platform_activity (not exposed; read through the admin views): admins read it.
-- Written only by private.refresh_analytics (security definer).
alter table private.platform_activity enable row level security;

drop policy if exists "admins read platform activity" on private.platform_activity;
create policy "admins read platform activity" on private.platform_activity
for select to authenticated
using ((select private.is_admin()));
