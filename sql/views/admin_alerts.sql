-- admin.alerts: anomalies raised by private.detect_anomalies, with their evidence
-- (?status=eq.open&order=raised_at.desc). Acknowledge or resolve with
-- rpc/acknowledge_alert and rpc/resolve_alert (audited).
create or replace view admin.alerts
with (security_invoker = true)
as
select
    a.id,
    a.rule,
    a.subject,
    a.window_start,
    a.severity,
    a.status,
    a.title,
    a.evidence,
    a.raised_at,
    a.acknowledged_at,
    a.acknowledged_by,
    a.resolved_at,
    a.resolved_by
from private.alerts as a;

comment on view admin.alerts is 'Anomaly alerts: open, acknowledged or resolved (admins only).';
grant select on admin.alerts to authenticated, service_role;
