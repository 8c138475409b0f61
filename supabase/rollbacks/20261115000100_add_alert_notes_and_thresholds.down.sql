-- Undoes 20261115000100_add_alert_notes_and_thresholds: acknowledging takes no note again and
-- alerts no longer keep their rule's thresholds. Notes are lost (their audit entries stay).
drop view if exists admin.alerts;

drop function if exists admin.acknowledge_alert(bigint, text);
drop function if exists admin.resolve_alert(bigint);
drop function if exists private.admin_set_alert_status(bigint, text, text);

drop trigger if exists before_insert_record_rule_params on private.alerts;
drop function if exists private.tg_alerts__record_rule_params();
alter table private.alerts drop column if exists rule_params;
alter table private.alerts drop column if exists acknowledged_note;

-- Acknowledge or resolve an alert (open -> acknowledged -> resolved; open -> resolved).
-- security definer: alerts are written by no API role; it checks admin rights itself and
-- audits in the same transaction.
create function private.admin_set_alert_status(p_alert_id bigint, p_status text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_before private.alerts;
    v_after private.alerts;
begin
    perform private.assert_admin();
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
        resolved_at = case when p_status = 'resolved' then now() else resolved_at end,
        resolved_by = case when p_status = 'resolved' then auth.uid() else resolved_by end
    where id = p_alert_id
    returning * into v_after;
    perform private.audit(
        'admin.alert_' || p_status, 'alert', p_alert_id::text,
        jsonb_build_object('status', v_before.status), jsonb_build_object('status', v_after.status)
    );
    return to_jsonb(v_after);
end
$$;
revoke execute on function private.admin_set_alert_status(bigint, text) from public;
grant execute on function private.admin_set_alert_status(bigint, text) to authenticated,
service_role;

create function admin.acknowledge_alert(alert_id bigint)
returns jsonb
language sql
set search_path = ''
as $$ select private.admin_set_alert_status(alert_id, 'acknowledged') $$;
revoke execute on function admin.acknowledge_alert(bigint) from public;
grant execute on function admin.acknowledge_alert(bigint) to authenticated, service_role;

create function admin.resolve_alert(alert_id bigint)
returns jsonb
language sql
set search_path = ''
as $$ select private.admin_set_alert_status(alert_id, 'resolved') $$;
revoke execute on function admin.resolve_alert(bigint) from public;
grant execute on function admin.resolve_alert(bigint) to authenticated, service_role;

-- admin.alerts as sql/views/admin_alerts.sql had it before.
create view admin.alerts
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
