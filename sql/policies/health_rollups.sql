-- private.health_rollups (not exposed; read through the admin views): admins read it.
-- Written only by private.refresh_analytics (provider calls) and
-- private.record_http_stats (the gateway log), both security definer.
alter table private.health_rollups enable row level security;

drop policy if exists "admins read system health" on private.health_rollups;
create policy "admins read system health" on private.health_rollups
for select to authenticated
using ((select private.is_admin()));
