-- private.alert_preferences (not exposed; read through admin.alert_preferences): admins read
-- every admin's choice, and each admin writes only their own row, through
-- admin.set_alert_email (audited by the table's trigger). Users have no policy: they read and
-- write nothing. The write policies name `authenticated` with an admin check, not the admin
-- role: that role has read policies only (see 20261113000000_add_admin_api_role).
alter table private.alert_preferences enable row level security;

drop policy if exists "admins read alert preferences" on private.alert_preferences;
create policy "admins read alert preferences" on private.alert_preferences
for select to voxflow_admin using (true);

drop policy if exists "admins add their own alert preference" on private.alert_preferences;
create policy "admins add their own alert preference" on private.alert_preferences
for insert to authenticated
with check (user_id = (select auth.uid()) and (select private.is_admin()));

drop policy if exists "admins change their own alert preference" on private.alert_preferences;
create policy "admins change their own alert preference" on private.alert_preferences
for update to authenticated
using (user_id = (select auth.uid()) and (select private.is_admin()))
with check (user_id = (select auth.uid()) and (select private.is_admin()));
