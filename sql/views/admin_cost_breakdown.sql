-- admin.cost_breakdown: each month's cost by provider, model and plan (the user's plan when
-- the call was made), with its share of the month (?period_start=eq.2026-11-01).
create or replace view admin.cost_breakdown
with (security_invoker = true)
as
with monthly as (
    select
        date_trunc('month', d.day::timestamp)::date as period_start,
        d.provider,
        d.kind,
        d.model,
        d.plan_id,
        sum(d.events) as provider_calls,
        sum(d.input_tokens + d.output_tokens) as tokens,
        sum(d.audio_seconds) as audio_seconds,
        sum(d.characters) as characters,
        sum(d.call_seconds) as call_seconds,
        sum(d.cost_usd) as cost_usd
    from private.platform_daily as d
    group by date_trunc('month', d.day::timestamp)::date, d.provider, d.kind, d.model, d.plan_id
)

select
    m.period_start,
    m.provider,
    m.kind,
    m.model,
    m.plan_id,
    m.provider_calls,
    m.tokens,
    m.audio_seconds,
    m.characters,
    m.call_seconds,
    m.cost_usd,
    round(m.cost_usd / nullif(sum(m.cost_usd) over (partition by m.period_start), 0), 4)
    as share_of_month,
    (select j.last_run_at from private.job_runs as j where j.job = 'refresh_analytics') as as_of
from monthly as m;

comment on view admin.cost_breakdown is 'Monthly cost by provider, model and plan (admins only).';
grant select on admin.cost_breakdown to authenticated, service_role;
