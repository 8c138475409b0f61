-- admin.feature_usage: usage by feature per month: chat (llm), speak (tts), transcribe (stt),
-- phone (telephony), from private.platform_daily (?period_start=eq.2026-11-01).
create or replace view admin.feature_usage
with (security_invoker = true)
as
select
    date_trunc('month', d.day::timestamp)::date as period_start,
    private.feature_of(d.kind) as feature,
    d.kind,
    sum(d.events) as provider_calls,
    sum(d.failures) as failed_calls,
    sum(d.input_tokens + d.output_tokens) as tokens,
    round(sum(d.audio_seconds) / 60, 2) as audio_minutes,
    sum(d.characters) as characters,
    round(sum(d.call_seconds) / 60, 2) as call_minutes,
    sum(d.cost_usd) as cost_usd,
    (select j.last_run_at from private.job_runs as j where j.job = 'refresh_analytics') as as_of
from private.platform_daily as d
group by date_trunc('month', d.day::timestamp)::date, d.kind;

comment on view admin.feature_usage is 'Monthly usage by feature (admins only).';
grant select on admin.feature_usage to authenticated, service_role;
