-- private.top_users (not exposed; read through the admin views): admins read it.
-- Written only by private.refresh_analytics (security definer), from the counters.
alter table private.top_users enable row level security;

drop policy if exists "admins read the top users" on private.top_users;
create policy "admins read the top users" on private.top_users
for select to authenticated
using ((select private.is_admin()));
