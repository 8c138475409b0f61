-- private.audit_log (not exposed; read through admin.audit_log): admins read every entry; the
-- sidecar may read it. Nobody writes it except private.audit (security definer).
alter table private.audit_log enable row level security;

drop policy if exists "admins read the audit log" on private.audit_log;
create policy "admins read the audit log" on private.audit_log
for select to authenticated
using ((select private.is_admin()));

drop policy if exists "the sidecar reads the audit log" on private.audit_log;
create policy "the sidecar reads the audit log" on private.audit_log
for select to voxflow_sidecar using (true);
