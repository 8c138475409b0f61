-- private.platform_counts (not exposed; read through admin.platform_totals): admins read it.
-- Written only by private.refresh_platform_counts (the analytics jobs).
alter table private.platform_counts enable row level security;

drop policy if exists "admins read the platform counts" on private.platform_counts;
create policy "admins read the platform counts" on private.platform_counts
for select to authenticated
using ((select private.is_admin()));
