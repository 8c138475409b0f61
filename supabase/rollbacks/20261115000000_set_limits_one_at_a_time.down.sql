-- Undoes 20261115000000_set_limits_one_at_a_time: admin.set_limits takes both limits again
-- (null = the plan's). Overrides set meanwhile stay; audit entries and notifications stay.
drop function if exists admin.set_limits(uuid, integer, bigint, boolean, boolean, text);
drop function if exists private.admin_set_limits(uuid, integer, bigint, boolean, boolean, text);

-- Per-user overrides of the plan's limits (null = back to the plan's). The user is told.
-- security definer: admins write other users' protected columns.
create function private.admin_set_limits(
    p_user_id uuid, p_agent_limit integer, p_monthly_token_limit bigint
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_before record;
    v_after record;
    v_result record;
begin
    perform private.assert_admin();
    if p_agent_limit < 0 or p_monthly_token_limit < 0 then
        perform private.raise_error(400, 'invalid_limit', 'Limits cannot be negative');
    end if;
    perform 1 from public.profiles where id = p_user_id for update;
    if not found then
        perform private.raise_error(404, 'user_not_found', 'No user with this id');
    end if;
    select * into v_before from private.effective_limits(p_user_id);
    update public.profiles
    set agent_limit_override = p_agent_limit, monthly_token_limit_override = p_monthly_token_limit
    where id = p_user_id;
    select * into v_after from private.effective_limits(p_user_id);
    select * into v_result from private.apply_agent_limit(p_user_id);
    perform private.audit(
        'admin.limits_changed', 'user', p_user_id::text,
        jsonb_build_object('agent_limit', v_before.agent_limit,
            'monthly_token_limit', v_before.monthly_token_limit),
        jsonb_build_object('agent_limit', v_after.agent_limit,
            'monthly_token_limit', v_after.monthly_token_limit)
    );
    perform private.notify(
        p_user_id, 'limits_changed', 'Your limits were changed',
        format('An administrator changed your limits: agents %s → %s, tokens a month %s → %s.',
            v_before.agent_limit, v_after.agent_limit,
            v_before.monthly_token_limit, v_after.monthly_token_limit),
        jsonb_build_object(
            'before', jsonb_build_object('agent_limit', v_before.agent_limit,
                'monthly_token_limit', v_before.monthly_token_limit),
            'after', jsonb_build_object('agent_limit', v_after.agent_limit,
                'monthly_token_limit', v_after.monthly_token_limit)
        )
    );
    return jsonb_build_object(
        'agent_limit', v_after.agent_limit, 'monthly_token_limit', v_after.monthly_token_limit,
        'suspended_agent_ids', to_jsonb(v_result.suspended),
        'reactivated_agent_ids', to_jsonb(v_result.reactivated)
    );
end
$$;
grant execute on function private.admin_set_limits(uuid, integer, bigint) to authenticated,
service_role;

create function admin.set_limits(user_id uuid, agent_limit integer, monthly_token_limit bigint)
returns jsonb
language sql
set search_path = ''
as $$ select private.admin_set_limits(user_id, agent_limit, monthly_token_limit) $$;
grant execute on function admin.set_limits(uuid, integer, bigint) to authenticated, service_role;
