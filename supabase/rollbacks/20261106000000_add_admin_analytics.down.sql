-- Undoes 20261106000000_add_admin_analytics: the admin views, rollups, health data, alerts and
-- the audit chain columns are dropped (audit entries stay); private.audit and the audit log's
-- change guard are restored as the accounts and tenancy migrations left them.
do $$
begin
    if to_regclass('cron.job') is not null then
        perform cron.unschedule(jobid) from cron.job where jobname = 'voxflow-analytics';
    end if;
end
$$;

-- Declarative views that read these objects come back with the next `voxflow db push`.
drop view if exists admin.users_overview;
drop view if exists admin.user_agents;
drop view if exists admin.user_usage;
drop view if exists admin.user_subscriptions;
drop view if exists admin.user_notifications;
drop view if exists admin.audit_log;
drop view if exists admin.platform_totals;
drop view if exists admin.daily_trends;
drop view if exists admin.monthly_trends;
drop view if exists admin.feature_usage;
drop view if exists admin.cost_breakdown;
drop view if exists admin.top_users;
drop view if exists admin.system_health;
drop view if exists admin.alerts;

drop function if exists admin.resolve_alert(bigint);
drop function if exists admin.acknowledge_alert(bigint);
drop function if exists private.admin_set_alert_status(bigint, text);
drop function if exists private.metrics_snapshot();
drop function if exists private.run_analytics_jobs();
drop function if exists private.detect_anomalies(timestamptz, boolean);
drop function if exists private.prune_analytics();
drop function if exists private.record_http_stats(jsonb);
drop function if exists private.refresh_analytics(boolean);
drop function if exists private.refresh_top_users(date []);
drop function if exists private.refresh_activity(date []);
drop function if exists private.claim_job(text, interval);

drop trigger if exists before_write_percentiles on private.health_rollups;
drop function if exists private.tg_health_rollups__percentiles();
drop trigger if exists after_insert_add_to_directory on public.profiles;
drop trigger if exists after_update_sync_directory on public.profiles;
drop function if exists private.tg_profiles__sync_directory();
drop trigger if exists after_insert_feed_analytics on public.usage_events;
drop function if exists private.tg_usage_events__feed_analytics();

-- The audit log as before: no chain, no RLS, the tenancy migration's change guard.
drop trigger if exists after_insert_advance_head on private.audit_log;
drop function if exists private.tg_audit_log__advance_head();
drop trigger if exists before_insert_chain on private.audit_log;
drop function if exists private.tg_audit_log__chain();
drop function if exists private.verify_audit_chain();
drop function if exists private.audit_chain_hash(private.audit_log);
drop function if exists private.audit_content_digest(private.audit_log);
drop policy if exists "admins read the audit log" on private.audit_log;
drop policy if exists "the sidecar reads the audit log" on private.audit_log;
alter table private.audit_log disable row level security;
revoke select on private.audit_log from authenticated, service_role;
drop index if exists private.audit_log_action_idx;
drop index if exists private.audit_log_target_id_idx;
alter table private.audit_log
drop column if exists content_digest,
drop column if exists prev_hash,
drop column if exists hash,
drop column if exists redacted_at;
drop table if exists private.audit_chain_head;

create or replace function private.tg_audit_log__forbid_change()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_erasing text := nullif(current_setting('voxflow.audit_erasure', true), '');
begin
    if tg_op = 'UPDATE' and v_erasing is not null
        and new.id = old.id and new.action = old.action and new.occurred_at = old.occurred_at
        and new.actor_id is not distinct from old.actor_id
        and new.actor_email is null and new.ip is null and new.before is null
        and new.after is null then
        return new;
    end if;
    perform private.raise_error(
        403, 'audit_log_append_only', 'The audit log is append-only',
        null, 'Record a correction as a new entry.'
    );
    return null;
end
$$;

create or replace function private.audit(
    p_action text,
    p_target_type text,
    p_target_id text,
    p_before jsonb default null,
    p_after jsonb default null,
    p_actor_id uuid default auth.uid()
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_id bigint;
    v_headers jsonb := nullif(current_setting('request.headers', true), '')::jsonb;
begin
    insert into private.audit_log (
        actor_id, actor_email, action, target_type, target_id, before, after, request_id
    )
    values (
        p_actor_id,
        (select u.email from auth.users as u where u.id = p_actor_id),
        p_action, p_target_type, p_target_id, p_before, p_after,
        coalesce(nullif(current_setting('voxflow.request_id', true), ''), v_headers ->> 'x-request-id')
    )
    returning id into v_id;
    return v_id;
end
$$;
drop function if exists private.client_ip();

drop function if exists private.hist_quantile(bigint [], numeric);
drop function if exists private.hist_add(bigint [], bigint []);
drop function if exists private.latency_histogram(integer []);
drop function if exists private.latency_bounds_ms();
drop function if exists private.feature_of(text);

drop table if exists private.alerts;
drop table if exists private.anomaly_rules;
drop table if exists private.job_runs;
drop table if exists private.log_cursors;
drop table if exists private.health_totals;
drop table if exists private.health_rollups;
drop table if exists private.top_users;
drop table if exists private.platform_activity;
drop table if exists private.platform_daily;
drop table if exists private.usage_rollup_queue;
drop table if exists private.user_activity_days;
drop table if exists private.user_directory;

drop index if exists public.profiles_created_at_idx;
