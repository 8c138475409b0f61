-- admin.user_subscriptions: every user's plan history (?user_id=eq.<id>&order=changed_at.desc).
create or replace view admin.user_subscriptions
with (security_invoker = true)
as
select
    s.user_id,
    s.id as subscription_id,
    s.plan_id,
    s.status,
    s.period_start,
    s.period_end,
    s.changed_at,
    s.ended_at
from public.subscriptions as s;

comment on view admin.user_subscriptions is 'Plan history by user (admins only).';
grant select on admin.user_subscriptions to authenticated, service_role;
