-- Purpose: admin.set_limits changes only what it is given (issue 16 item 2, issue 14). Both
--   limits were required and null meant "back to the plan's", so an admin who raised only the
--   token limit also reset the agent override, and the agent limit re-applied to the agents
--   paused some. Now each limit is optional (left out = unchanged); clearing an override is
--   its own argument (clear_agent_limit, clear_token_limit); an optional reason goes into the
--   audit entry and the user's notification; the answer says old -> new for each limit and
--   for each override. Agents are brought in line with the agent limit only when the agent
--   override changed, and a call that changes nothing writes nothing (no audit entry, no
--   notification; `changed` is false).
-- Objects: admin.set_limits(uuid, integer, bigint) and private.admin_set_limits(uuid,
--   integer, bigint) replaced by admin.set_limits(user_id, agent_limit, monthly_token_limit,
--   clear_agent_limit, clear_token_limit, reason) and private.admin_set_limits with the same
--   six arguments (every one but user_id with a default, so PostgREST calls it with only the
--   names it is sent).
-- Lock impact: none (functions only; a call locks the one profile row it changes).
-- Rollback: drops the six-argument functions and restores the three-argument ones as they
--   were (both limits required, null = the plan's).

drop function admin.set_limits(uuid, integer, bigint);
drop function private.admin_set_limits(uuid, integer, bigint);

-- Per-user overrides of the plan's limits, each changed only when named: a value sets the
-- override, clear_* removes it (the plan's value applies again). The user is told what
-- changed, with the reason. security definer: admins write other users' protected columns.
create function private.admin_set_limits(
    p_user_id uuid,
    p_agent_limit integer default null,
    p_monthly_token_limit bigint default null,
    p_clear_agent_limit boolean default false,
    p_clear_token_limit boolean default false,
    p_reason text default null
)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_clear_agents boolean := coalesce(p_clear_agent_limit, false);
    v_clear_tokens boolean := coalesce(p_clear_token_limit, false);
    v_reason text := nullif(btrim(p_reason), '');
    v_old public.profiles;
    v_agent_override integer;
    v_token_override bigint;
    v_before record;
    v_after record;
    v_suspended bigint[] := '{}';
    v_reactivated bigint[] := '{}';
    v_parts text[] := '{}';
    v_limits_before jsonb;
    v_limits_after jsonb;
    v_overrides jsonb;
begin
    perform private.assert_admin();
    if p_agent_limit is not null and v_clear_agents then
        perform private.raise_error(
            400, 'invalid_limit', 'Give a new agent limit or clear it, not both', 'agent_limit'
        );
    end if;
    if p_monthly_token_limit is not null and v_clear_tokens then
        perform private.raise_error(
            400, 'invalid_limit', 'Give a new monthly token limit or clear it, not both',
            'monthly_token_limit'
        );
    end if;
    if p_agent_limit < 0 then
        perform private.raise_error(400, 'invalid_limit', 'Limits cannot be negative', 'agent_limit');
    end if;
    if p_monthly_token_limit < 0 then
        perform private.raise_error(
            400, 'invalid_limit', 'Limits cannot be negative', 'monthly_token_limit'
        );
    end if;
    if p_agent_limit is null and p_monthly_token_limit is null and not v_clear_agents
        and not v_clear_tokens then
        perform private.raise_error(
            400, 'invalid_limit', 'Name a limit to change', null,
            'Send agent_limit or monthly_token_limit, or clear_agent_limit or clear_token_limit: '
            || 'true to go back to the plan''s value.'
        );
    end if;
    if char_length(v_reason) > 500 then
        perform private.raise_error(
            400, 'validation_failed', 'A reason is at most 500 characters', 'reason'
        );
    end if;

    select * into v_old from public.profiles where id = p_user_id for update;
    if not found then
        perform private.raise_error(404, 'user_not_found', 'No user with this id');
    end if;
    v_agent_override := case when v_clear_agents then null
        else coalesce(p_agent_limit, v_old.agent_limit_override) end;
    v_token_override := case when v_clear_tokens then null
        else coalesce(p_monthly_token_limit, v_old.monthly_token_limit_override) end;
    select * into v_before from private.effective_limits(p_user_id);
    v_limits_before := jsonb_build_object(
        'agent_limit', v_before.agent_limit, 'monthly_token_limit', v_before.monthly_token_limit
    );
    v_overrides := jsonb_build_object(
        'before', jsonb_build_object(
            'agent_limit', v_old.agent_limit_override,
            'monthly_token_limit', v_old.monthly_token_limit_override
        ),
        'after', jsonb_build_object(
            'agent_limit', v_agent_override, 'monthly_token_limit', v_token_override
        )
    );
    if v_agent_override is not distinct from v_old.agent_limit_override
        and v_token_override is not distinct from v_old.monthly_token_limit_override then
        return jsonb_build_object(
            'changed', false,
            'agent_limit', v_before.agent_limit,
            'monthly_token_limit', v_before.monthly_token_limit,
            'before', v_limits_before, 'after', v_limits_before, 'overrides', v_overrides,
            'reason', v_reason,
            'suspended_agent_ids', '[]'::jsonb, 'reactivated_agent_ids', '[]'::jsonb
        );
    end if;

    update public.profiles
    set agent_limit_override = v_agent_override, monthly_token_limit_override = v_token_override
    where id = p_user_id;
    select * into v_after from private.effective_limits(p_user_id);
    v_limits_after := jsonb_build_object(
        'agent_limit', v_after.agent_limit, 'monthly_token_limit', v_after.monthly_token_limit
    );
    -- Only a changed agent limit moves agents: a token change never pauses one.
    if v_agent_override is distinct from v_old.agent_limit_override then
        select a.suspended, a.reactivated into v_suspended, v_reactivated
        from private.apply_agent_limit(p_user_id) as a;
        v_parts := v_parts || format('agents %s → %s%s',
            to_char(v_before.agent_limit, 'FM999,999,999,990'),
            to_char(v_after.agent_limit, 'FM999,999,999,990'),
            case when v_agent_override is null then ' (your plan''s)' else '' end);
    end if;
    if v_token_override is distinct from v_old.monthly_token_limit_override then
        v_parts := v_parts || format('tokens a month %s → %s%s',
            to_char(v_before.monthly_token_limit, 'FM9,999,999,999,999,999,990'),
            to_char(v_after.monthly_token_limit, 'FM9,999,999,999,999,999,990'),
            case when v_token_override is null then ' (your plan''s)' else '' end);
    end if;

    perform private.audit(
        'admin.limits_changed', 'user', p_user_id::text, v_limits_before,
        v_limits_after || case when v_reason is null then '{}'::jsonb
            else jsonb_build_object('reason', v_reason) end
    );
    perform private.notify(
        p_user_id, 'limits_changed', 'Your limits were changed',
        format('An administrator changed your limits: %s.%s', array_to_string(v_parts, ', '),
            case when v_reason is null then '' else ' Reason: ' || v_reason end),
        jsonb_build_object(
            'before', v_limits_before, 'after', v_limits_after, 'reason', v_reason
        )
    );
    return jsonb_build_object(
        'changed', true,
        'agent_limit', v_after.agent_limit, 'monthly_token_limit', v_after.monthly_token_limit,
        'before', v_limits_before, 'after', v_limits_after, 'overrides', v_overrides,
        'reason', v_reason,
        'suspended_agent_ids', to_jsonb(v_suspended),
        'reactivated_agent_ids', to_jsonb(v_reactivated)
    );
end
$$;
revoke execute on function private.admin_set_limits(uuid, integer, bigint, boolean, boolean, text)
from public;
grant execute on function private.admin_set_limits(uuid, integer, bigint, boolean, boolean, text)
to authenticated, service_role;

create function admin.set_limits(
    user_id uuid,
    agent_limit integer default null,
    monthly_token_limit bigint default null,
    clear_agent_limit boolean default false,
    clear_token_limit boolean default false,
    reason text default null
)
returns jsonb
language sql
set search_path = ''
as $$
    select private.admin_set_limits(
        user_id, agent_limit, monthly_token_limit, clear_agent_limit, clear_token_limit, reason
    )
$$;
comment on function admin.set_limits(uuid, integer, bigint, boolean, boolean, text) is
'Change a user''s limit overrides: each only when named (a value, or clear_* for the plan''s); '
'returns {changed, agent_limit, monthly_token_limit, before, after, overrides, reason, '
'suspended_agent_ids, reactivated_agent_ids}.';
revoke execute on function admin.set_limits(uuid, integer, bigint, boolean, boolean, text)
from public;
grant execute on function admin.set_limits(uuid, integer, bigint, boolean, boolean, text)
to authenticated, service_role;
