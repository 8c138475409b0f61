-- private.job_runs (not exposed; read through the admin views): admins read it.
-- Written only by the periodic jobs (security definer).
alter table private.job_runs enable row level security;

drop policy if exists "admins read job runs" on private.job_runs;
create policy "admins read job runs" on private.job_runs
for select to authenticated
using ((select private.is_admin()));
