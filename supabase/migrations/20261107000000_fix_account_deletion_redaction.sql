-- Purpose: an account deletion left the user's email in the target of audit entries about
--   them by email (failed sign-ins): the redaction only cleared targets equal to the user id.
--   It now clears either, so only the non-identifying deletion entry speaks of the user.
-- Objects: private.delete_account (replaced; same signature and grants).
-- Lock impact: none (function only).
-- Rollback: restores the previous body.

-- security definer: it deletes from auth.users and redacts the append-only audit log.
create or replace function private.delete_account(p_user_id uuid, p_by_admin boolean)
returns void
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_email text := (select lower(u.email) from auth.users as u where u.id = p_user_id);
begin
    if v_email is null and not exists (select 1 from auth.users where id = p_user_id) then
        perform private.raise_error(404, 'user_not_found', 'No user with this id');
    end if;
    perform set_config('voxflow.audit_erasure', p_user_id::text, true);
    update private.audit_log
    set actor_email = null, ip = null, before = null, after = null,
        target_id = case
            when target_id in (p_user_id::text, v_email) then null else target_id
        end
    where actor_id = p_user_id or target_id in (p_user_id::text, v_email);
    perform set_config('voxflow.audit_erasure', '', true);
    delete from auth.users where id = p_user_id;
    perform private.audit(
        case when p_by_admin then 'admin.account_deleted' else 'user.account_deleted' end,
        'user', null, null, null,
        case when p_by_admin then auth.uid() end
    );
end
$$;
