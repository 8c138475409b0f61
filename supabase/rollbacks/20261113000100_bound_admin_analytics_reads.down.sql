-- Undoes 20261113000100_bound_admin_analytics_reads. The view that reads the counts goes with
-- them; `voxflow db push` of the previous sql/ restores it, counting on every read again.
drop view if exists admin.platform_totals;
drop table if exists private.platform_counts;
drop function if exists private.refresh_platform_counts();

drop index private.user_directory_last_active_at_idx;
create index user_directory_last_active_at_idx on private.user_directory (last_active_at);

-- Agents by status on the whole platform, for admins and the service role; nulls for others.
-- security definer: counts every agent without the policy's array of every owner.
create function private.platform_agent_counts()
returns table (agents_active bigint, agents_suspended bigint)
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    if private.is_admin() or auth.role() = 'service_role' then
        return query
        select
            count(*) filter (where a.status = 'active'),
            count(*) filter (where a.status = 'suspended_over_limit')
        from public.agents as a;
    else
        return query select null::bigint, null::bigint;
    end if;
end
$$;
revoke execute on function private.platform_agent_counts() from public;
grant execute on function private.platform_agent_counts() to authenticated, service_role;

create or replace function private.run_analytics_jobs()
returns jsonb
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_result jsonb := '{}';
begin
    if private.claim_job('detect_anomalies', interval '55 seconds') then
        v_result := v_result || jsonb_build_object(
            'refresh', private.refresh_analytics(false),
            'alerts_raised', (select count(*) from private.detect_anomalies(now(), false))
        );
    end if;
    if private.claim_job('prune_analytics', interval '1 hour') then
        v_result := v_result || jsonb_build_object('pruned', private.prune_analytics());
    end if;
    return v_result;
end
$$;
delete from private.job_runs where job = 'count_platform';
