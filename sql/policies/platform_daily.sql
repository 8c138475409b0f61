-- private.platform_daily (not exposed; read through the admin views): admins read it.
-- Written only by private.refresh_analytics (security definer).
alter table private.platform_daily enable row level security;

drop policy if exists "admins read platform usage" on private.platform_daily;
create policy "admins read platform usage" on private.platform_daily
for select to authenticated
using ((select private.is_admin()));
