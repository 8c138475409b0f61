-- Purpose: an alert says what it was measured against and who is on it (issue 14). An admin
--   acknowledges with an optional note, kept on the alert, shown in admin.alerts and written
--   into the audit entry. Each alert keeps the thresholds of its rule as they were when it was
--   raised (private.anomaly_rules can change afterwards), and admin.alerts states them with
--   the first and last time the anomaly was seen, which the console had pieced together from
--   the evidence and described in words.
-- Objects: private.alerts.acknowledged_note, private.alerts.rule_params (new columns, filled
--   for existing alerts from the rules as they are now); private.tg_alerts__record_rule_params()
--   and its trigger before_insert_record_rule_params (new);
--   private.admin_set_alert_status(bigint, text) replaced by (bigint, text, text) and
--   admin.acknowledge_alert(bigint) by admin.acknowledge_alert(alert_id, note);
--   admin.resolve_alert(bigint) recreated over the new helper. admin.alerts gains
--   acknowledged_note, thresholds, first_seen_at and last_seen_at (sql/views/admin_alerts.sql).
-- Lock impact: adding two nullable columns without defaults is a catalog change; the backfill
--   rewrites each existing alert row once (alerts are few: one per rule, subject and window).
-- Rollback: drops the columns, the trigger and the new functions, restores the one-argument
--   acknowledge_alert and the two-argument helper, and admin.alerts as it was before. Notes
--   written meanwhile are lost (their audit entries stay).

alter table private.alerts add column acknowledged_note text;
alter table private.alerts add column rule_params jsonb;
comment on column private.alerts.acknowledged_note is
'What the admin who acknowledged the alert wrote (at most 1,000 characters).';
comment on column private.alerts.rule_params is
'The thresholds of its rule (private.anomaly_rules.params) when the alert was raised.';

-- Alerts raised before this migration take their rule's thresholds as they are now.
update private.alerts as a set rule_params = r.params
from private.anomaly_rules as r
where r.rule = a.rule and a.rule_params is null;

-- The rule's thresholds as the detector read them, kept with the alert it raises (the
-- detector runs in one transaction, so they are the ones it compared against).
create function private.tg_alerts__record_rule_params()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
    if new.rule_params is null then
        new.rule_params := (select r.params from private.anomaly_rules as r where r.rule = new.rule);
    end if;
    return new;
end
$$;
revoke execute on function private.tg_alerts__record_rule_params() from public;

create trigger before_insert_record_rule_params
before insert on private.alerts
for each row execute function private.tg_alerts__record_rule_params();

drop function admin.acknowledge_alert(bigint);
drop function admin.resolve_alert(bigint);
drop function private.admin_set_alert_status(bigint, text);

-- Acknowledge or resolve an alert (open -> acknowledged -> resolved; open -> resolved); an
-- acknowledgement may carry a note. security definer: alerts are written by no API role; it
-- checks admin rights itself and audits in the same transaction.
create function private.admin_set_alert_status(
    p_alert_id bigint, p_status text, p_note text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_note text := nullif(btrim(p_note), '');
    v_before private.alerts;
    v_after private.alerts;
begin
    perform private.assert_admin();
    if char_length(v_note) > 1000 then
        perform private.raise_error(400, 'validation_failed', 'A note is at most 1,000 characters', 'note');
    end if;
    select * into v_before from private.alerts where id = p_alert_id for update;
    if not found then
        perform private.raise_error(404, 'alert_not_found', 'No alert with this id');
    end if;
    if v_before.status = 'resolved' or v_before.status = p_status then
        perform private.raise_error(
            409, 'invalid_alert_transition',
            format('This alert is already %s', v_before.status), 'status',
            'Alerts go from open to acknowledged to resolved.'
        );
    end if;
    update private.alerts
    set status = p_status,
        acknowledged_at = case when p_status = 'acknowledged' then now() else acknowledged_at end,
        acknowledged_by = case when p_status = 'acknowledged' then auth.uid() else acknowledged_by end,
        acknowledged_note = case when p_status = 'acknowledged' then v_note else acknowledged_note end,
        resolved_at = case when p_status = 'resolved' then now() else resolved_at end,
        resolved_by = case when p_status = 'resolved' then auth.uid() else resolved_by end
    where id = p_alert_id
    returning * into v_after;
    perform private.audit(
        'admin.alert_' || p_status, 'alert', p_alert_id::text,
        jsonb_build_object('status', v_before.status),
        jsonb_build_object('status', v_after.status)
        || case when v_note is null then '{}'::jsonb else jsonb_build_object('note', v_note) end
    );
    return to_jsonb(v_after);
end
$$;
revoke execute on function private.admin_set_alert_status(bigint, text, text) from public;
grant execute on function private.admin_set_alert_status(bigint, text, text) to authenticated,
service_role;

create function admin.acknowledge_alert(alert_id bigint, note text default null)
returns jsonb
language sql
set search_path = ''
as $$ select private.admin_set_alert_status(alert_id, 'acknowledged', note) $$;
comment on function admin.acknowledge_alert(bigint, text) is
'Mark an open alert acknowledged under the caller''s name, with an optional note (audited).';
revoke execute on function admin.acknowledge_alert(bigint, text) from public;
grant execute on function admin.acknowledge_alert(bigint, text) to authenticated, service_role;

create function admin.resolve_alert(alert_id bigint)
returns jsonb
language sql
set search_path = ''
as $$ select private.admin_set_alert_status(alert_id, 'resolved') $$;
revoke execute on function admin.resolve_alert(bigint) from public;
grant execute on function admin.resolve_alert(bigint) to authenticated, service_role;
