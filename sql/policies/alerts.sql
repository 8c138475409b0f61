-- private.alerts (not exposed; read through the admin views): admins read it.
-- Raised only by private.detect_anomalies; admins change their status
-- through admin.acknowledge_alert / admin.resolve_alert (audited).
alter table private.alerts enable row level security;

drop policy if exists "admins read alerts" on private.alerts;
create policy "admins read alerts" on private.alerts
for select to authenticated
using ((select private.is_admin()));
