-- admin.alerts: anomalies raised by private.detect_anomalies, with their evidence, the
-- thresholds of their rule when raised, and when the anomaly was first and last seen
-- (?status=eq.open&order=raised_at.desc). Acknowledge (with a note) or resolve with
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
    a.resolved_by,
    a.acknowledged_note,
    a.rule_params as thresholds,
    -- Bursts record their first and last event; the other rules are seen over their window
    -- (window_minutes, or a day), up to when the detector raised them.
    coalesce((a.evidence ->> 'first_at')::timestamptz, a.window_start) as first_seen_at,
    coalesce(
        (a.evidence ->> 'last_at')::timestamptz,
        least(
            a.raised_at,
            a.window_start + coalesce(
                make_interval(mins => (a.evidence ->> 'window_minutes')::integer), interval '1 day'
            )
        )
    ) as last_seen_at
from private.alerts as a;

comment on view admin.alerts is 'Anomaly alerts: open, acknowledged or resolved (admins only).';
comment on column admin.alerts.thresholds is
'The rule''s parameters when the alert was raised (private.anomaly_rules.params).';
grant select on admin.alerts to authenticated, service_role;
