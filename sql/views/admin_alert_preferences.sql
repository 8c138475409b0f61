-- admin.alert_preferences: how alerts reach each active admin. Every new alert is an in-app
-- notification (kind admin_alert); email_enabled says whether it is mailed too (updated_at is
-- null while the admin never changed it). The console reads its own row
-- (?user_id=eq.<id>) and changes it with rpc/set_alert_email.
create or replace view admin.alert_preferences
with (security_invoker = true)
as
select
    p.id as user_id,
    p.email,
    coalesce(a.email_enabled, true) as email_enabled,
    a.updated_at
from public.profiles as p
left join private.alert_preferences as a on p.id = a.user_id
where p.role = 'admin' and p.status = 'active';

comment on view admin.alert_preferences is 'Alert delivery of each active admin (admins only).';
grant select on admin.alert_preferences to authenticated, service_role;
