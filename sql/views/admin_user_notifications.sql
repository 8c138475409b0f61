-- admin.user_notifications: what each user was told, and whether they read it
-- (?user_id=eq.<id>&order=created_at.desc).
create or replace view admin.user_notifications
with (security_invoker = true)
as
select
    n.user_id,
    n.id as notification_id,
    n.kind,
    n.title,
    n.body,
    n.data,
    n.created_at,
    n.read_at
from public.notifications as n;

comment on view admin.user_notifications is 'Notifications by user (admins only).';
grant select on admin.user_notifications to authenticated, service_role;
