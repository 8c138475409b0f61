-- Undoes 20261107000000_fix_account_deletion_redaction: the body from the tenancy migration.
create or replace function private.delete_account(p_user_id uuid, p_by_admin boolean)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    if not exists (select 1 from auth.users where id = p_user_id) then
        perform private.raise_error(404, 'user_not_found', 'No user with this id');
    end if;
    perform set_config('voxflow.audit_erasure', p_user_id::text, true);
    update private.audit_log
    set actor_email = null, ip = null, before = null, after = null,
        target_id = case when target_id = p_user_id::text then null else target_id end
    where actor_id = p_user_id or target_id = p_user_id::text
        or target_id = (select lower(u.email) from auth.users as u where u.id = p_user_id);
    perform set_config('voxflow.audit_erasure', '', true);
    delete from auth.users where id = p_user_id;
    perform private.audit(
        case when p_by_admin then 'admin.account_deleted' else 'user.account_deleted' end,
        'user', null, null, null,
        case when p_by_admin then auth.uid() end
    );
end
$$;
