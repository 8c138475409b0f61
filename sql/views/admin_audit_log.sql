-- admin.audit_log: the tamper-evident audit trail, searchable by actor, target, action and time
-- (?actor_id=eq.<id>, ?target_id=eq.<id>, ?action=like.admin.*, ?occurred_at=gte.<time>;
-- each served by an index). Redacted entries (their account was deleted) show redacted_at.
create or replace view admin.audit_log
with (security_invoker = true)
as
select
    a.id,
    a.occurred_at,
    a.actor_id,
    a.actor_email,
    a.action,
    a.target_type,
    a.target_id,
    a.before,
    a.after,
    a.request_id,
    a.ip,
    a.redacted_at,
    a.hash
from private.audit_log as a;

comment on view admin.audit_log is 'Admin actions and security events (admins only).';
grant select on admin.audit_log to authenticated, service_role;
