-- The usage ledger and its rollups: owners read theirs, admins read all; only
-- private.record_usage (security definer) writes them.
-- Admins read every row under their own role, voxflow_admin (see
-- 20261113000000_add_admin_api_role).
drop policy if exists "owners read their usage events" on public.usage_events;
create policy "owners read their usage events" on public.usage_events
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists "admins read all usage events" on public.usage_events;
create policy "admins read all usage events" on public.usage_events
for select to voxflow_admin using (true);

drop policy if exists "owners read their usage counters" on public.usage_counters;
create policy "owners read their usage counters" on public.usage_counters
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists "admins read all usage counters" on public.usage_counters;
create policy "admins read all usage counters" on public.usage_counters
for select to voxflow_admin using (true);

drop policy if exists "owners read their daily usage" on public.usage_daily;
create policy "owners read their daily usage" on public.usage_daily
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists "admins read all daily usage" on public.usage_daily;
create policy "admins read all daily usage" on public.usage_daily
for select to voxflow_admin using (true);

drop policy if exists "owners read their quota warnings" on public.quota_warnings;
create policy "owners read their quota warnings" on public.quota_warnings
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists "admins read all quota warnings" on public.quota_warnings;
create policy "admins read all quota warnings" on public.quota_warnings
for select to voxflow_admin using (true);

drop policy if exists "owners read their period summaries" on public.period_summaries;
create policy "owners read their period summaries" on public.period_summaries
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists "admins read all period summaries" on public.period_summaries;
create policy "admins read all period summaries" on public.period_summaries
for select to voxflow_admin using (true);

drop policy if exists "users read the price book" on public.price_book;
create policy "users read the price book" on public.price_book
for select to authenticated using (true);

drop policy if exists "the sidecar reads the price book" on public.price_book;
create policy "the sidecar reads the price book" on public.price_book
for select to voxflow_sidecar using (true);
