-- Purpose: `voxflow audit verify`'s verdict in the console (issue 14): admins read the audit
--   chain's verification through the admin API, as {ok, checked, redacted, first_bad_id,
--   problem, verified_at}, computed on request by the same private.verify_audit_chain() the
--   CLI runs, in the caller's one snapshot; anyone else gets 403 like every admin function.
-- Objects: private.admin_verify_audit_chain(), admin.verify_audit_chain() (new).
-- Lock impact: none (new functions; a verification reads the audit log without locking it).
-- Rollback: drops the two functions.

-- What `voxflow audit verify` reports, for the console: {ok, checked, redacted, first_bad_id,
-- problem, verified_at}. security definer: the chain is verified over every entry and its
-- head whatever the caller's policies show (a chain checked over the visible rows proves
-- nothing); it checks admin rights itself.
create function private.admin_verify_audit_chain()
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_report record;
begin
    perform private.assert_admin();
    select * into v_report from private.verify_audit_chain();
    return jsonb_build_object(
        'ok', v_report.first_bad_id is null and v_report.problem is null,
        'checked', v_report.checked,
        'redacted', v_report.redacted,
        'first_bad_id', v_report.first_bad_id,
        'problem', v_report.problem,
        'verified_at', now()
    );
end
$$;
revoke execute on function private.admin_verify_audit_chain() from public;
grant execute on function private.admin_verify_audit_chain() to authenticated, service_role;

create function admin.verify_audit_chain()
returns jsonb
language sql
stable
set search_path = ''
as $$ select private.admin_verify_audit_chain() $$;
revoke execute on function admin.verify_audit_chain() from public;
grant execute on function admin.verify_audit_chain() to authenticated, service_role;
