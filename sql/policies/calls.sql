-- public.calls: owners read their calls, admins read all; only the sidecar (Twilio webhooks)
-- records and updates them.
-- Admins read every row under their own role, voxflow_admin (see
-- 20261113000000_add_admin_api_role).
alter table public.calls enable row level security;

drop policy if exists "owners read their calls" on public.calls;
create policy "owners read their calls" on public.calls
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists "admins read all calls" on public.calls;
create policy "admins read all calls" on public.calls
for select to voxflow_admin using (true);

drop policy if exists "the sidecar reads calls" on public.calls;
create policy "the sidecar reads calls" on public.calls
for select to voxflow_sidecar using (true);

drop policy if exists "the sidecar records calls" on public.calls;
create policy "the sidecar records calls" on public.calls
for insert to voxflow_sidecar with check (true);

drop policy if exists "the sidecar updates calls" on public.calls;
create policy "the sidecar updates calls" on public.calls
for update to voxflow_sidecar using (true) with check (true);
