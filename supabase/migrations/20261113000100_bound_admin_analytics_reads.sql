-- Purpose: the admin analytics grew with the number of accounts (bench: p95 7 ms at 100 users,
--   37 ms at 10,000). Two reads did work per account on every request:
--   (1) admin.platform_totals counted every profile and every agent, and the active users in
--   the directory (about 12 ms at 10,000 users and 27,000 agents, linear beyond). The counts
--   are now taken by a job every 15 seconds (the worker's tick, or pg_cron's minute) into the
--   one-row private.platform_counts, which the view reads; `counted_at` says when, as
--   `usage_as_of` already does for the usage.
--   (2) admin.users_overview ordered by last activity, the default list of a dashboard, sorted
--   every account: the index on private.user_directory.last_active_at was ascending with nulls
--   last, which `order by last_active_at desc nulls last` cannot walk. It is rebuilt in that
--   order, so a page reads its own rows (a page at offset 200: 2.8 ms instead of 38).
-- Objects: table private.platform_counts (+ RLS, sql/policies/platform_counts.sql);
--   private.refresh_platform_counts(); private.run_analytics_jobs() (body: one more job);
--   index private.user_directory_last_active_at_idx (rebuilt descending, nulls last);
--   private.platform_agent_counts() dropped (the job counts agents itself);
--   admin.platform_totals reads the counts (sql/views).
-- Lock impact: rebuilding the index blocks writes to private.user_directory for a moment
--   (sign-ins and the first provider call of a minute wait; well under a second at 100,000
--   users); the first count reads profiles and agents once.
-- Rollback: restores the ascending index, platform_agent_counts() and the job runner's body,
--   and drops the counts with the view that reads them (pushing the previous sql/ restores
--   the view).

create table private.platform_counts (
    id boolean primary key default true check (id),
    users_total bigint not null,
    users_active bigint not null,
    users_suspended bigint not null,
    users_pending_verification bigint not null,
    admins bigint not null,
    active_users_7d bigint not null,
    active_users_30d bigint not null,
    agents_active bigint not null,
    agents_suspended bigint not null,
    counted_at timestamptz not null
);
comment on table private.platform_counts is
'One row: accounts and agents on the whole platform, counted by the analytics jobs every 15 s.';
comment on column private.platform_counts.active_users_7d is
'Accounts that signed in or made a provider call in the 7 days before counted_at.';
alter table private.platform_counts enable row level security;
grant select on private.platform_counts to authenticated, service_role;

-- Count the platform now. Called by private.run_analytics_jobs (security definer), which is
-- why this one needs no rights of its own.
create function private.refresh_platform_counts()
returns void
language sql
set search_path = ''
as $$
    insert into private.platform_counts as c (
        id, users_total, users_active, users_suspended, users_pending_verification, admins,
        active_users_7d, active_users_30d, agents_active, agents_suspended, counted_at
    )
    select
        true,
        u.total, u.active, u.suspended, u.pending, u.admins,
        (
            select count(*) from private.user_directory as d
            where d.last_active_at >= now() - interval '7 days'
        ),
        (
            select count(*) from private.user_directory as d
            where d.last_active_at >= now() - interval '30 days'
        ),
        a.active, a.suspended,
        now()
    from (
        select
            count(*) as total,
            count(*) filter (where p.status = 'active') as active,
            count(*) filter (where p.status = 'suspended') as suspended,
            count(*) filter (where p.status = 'pending_verification') as pending,
            count(*) filter (where p.role = 'admin') as admins
        from public.profiles as p
    ) as u
    cross join (
        select
            count(*) filter (where g.status = 'active') as active,
            count(*) filter (where g.status = 'suspended_over_limit') as suspended
        from public.agents as g
    ) as a
    on conflict (id) do update
    set users_total = excluded.users_total,
        users_active = excluded.users_active,
        users_suspended = excluded.users_suspended,
        users_pending_verification = excluded.users_pending_verification,
        admins = excluded.admins,
        active_users_7d = excluded.active_users_7d,
        active_users_30d = excluded.active_users_30d,
        agents_active = excluded.agents_active,
        agents_suspended = excluded.agents_suspended,
        counted_at = excluded.counted_at;
$$;
revoke execute on function private.refresh_platform_counts() from public;

-- What the worker (every few seconds) and pg_cron (every minute) call: each job runs when
-- its interval has passed, once across all callers. A fold already in progress is not waited
-- for (detection then reads the rollups as they are). security definer: the worker is the
-- sidecar.
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
    if private.claim_job('count_platform', interval '15 seconds') then
        perform private.refresh_platform_counts();
        v_result := v_result || jsonb_build_object('platform_counted', true);
    end if;
    if private.claim_job('prune_analytics', interval '1 hour') then
        v_result := v_result || jsonb_build_object('pruned', private.prune_analytics());
    end if;
    return v_result;
end
$$;

drop index private.user_directory_last_active_at_idx;
create index user_directory_last_active_at_idx on private.user_directory
(last_active_at desc nulls last);

-- The view read the agent counts through this function; it now reads the job's counts.
drop view if exists admin.platform_totals;
drop function private.platform_agent_counts();

select private.refresh_platform_counts();
