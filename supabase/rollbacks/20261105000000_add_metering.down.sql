-- Undoes 20261105000000_add_metering: usage history, summaries and conversations are lost.
do $$
begin
    if to_regclass('cron.job') is not null then
        perform cron.unschedule(jobid) from cron.job where jobname = 'voxflow-billing-close';
    end if;
end
$$;
drop view if exists public.usage_summary;
drop view if exists public.usage_by_provider;
-- Declarative views that read these tables come back with the next `voxflow db push`.
drop view if exists public.plan_comparison;
drop function if exists private.run_billing_close();
drop function if exists private.close_period(date);
drop function if exists private.record_usage(jsonb, bigint);
drop function if exists private.send_quota_warnings(uuid, date);
drop function if exists private.release_reservation(bigint);
drop function if exists private.reserve_tokens(uuid, bigint);
drop function if exists private.cost_of(
    text, text, text, bigint, bigint, numeric, bigint, numeric, timestamptz
);
drop function if exists private.price_of(text, text, text, timestamptz);
drop table if exists public.usage_events cascade;
drop function if exists private.ensure_usage_partition(date);
drop function if exists private.period_of(timestamptz);
do $$
declare
    v_table text;
begin
    for v_table in
        select tablename from pg_tables
        where schemaname = 'private' and tablename like 'archived_usage_events_%'
    loop
        execute format('drop table private.%I', v_table);
    end loop;
end
$$;
drop table if exists private.usage_idempotency;
drop table if exists private.token_reservations;
drop table if exists private.closed_periods;
drop table if exists public.period_summaries;
drop function if exists private.tg_period_summaries__forbid_change();
drop table if exists public.quota_warnings;
drop table if exists public.usage_daily;
drop table if exists public.usage_counters;
drop table if exists public.conversation_messages;
drop table if exists public.conversations;
drop table if exists public.price_book;
alter table public.plans drop column if exists requests_per_minute,
drop column if exists monthly_cost_limit_usd;
