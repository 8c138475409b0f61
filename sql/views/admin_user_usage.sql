-- admin.user_usage: a user's usage by period, provider, kind and model (?user_id=eq.<id>):
-- open periods from the daily rollup, closed ones from their immutable summaries.
create or replace view admin.user_usage
with (security_invoker = true)
as
select
    d.user_id,
    d.period_start,
    false as closed,
    d.provider,
    d.kind,
    private.feature_of(d.kind) as feature,
    d.model,
    sum(d.events)::bigint as events,
    sum(d.failures)::bigint as failures,
    sum(d.input_tokens)::bigint as input_tokens,
    sum(d.output_tokens)::bigint as output_tokens,
    sum(d.input_tokens + d.output_tokens)::bigint as tokens,
    sum(d.audio_seconds) as audio_seconds,
    sum(d.characters)::bigint as characters,
    sum(d.call_seconds) as call_seconds,
    sum(d.cost_usd) as cost_usd
from public.usage_daily as d
where not exists (
    select 1 from public.period_summaries as s
    where s.user_id = d.user_id and s.period_start = d.period_start
)
group by d.user_id, d.period_start, d.provider, d.kind, d.model
union all
select
    s.user_id,
    s.period_start,
    true as closed,
    s.provider,
    s.kind,
    private.feature_of(s.kind) as feature,
    s.model,
    s.events,
    null::bigint as failures,
    s.input_tokens,
    s.output_tokens,
    s.input_tokens + s.output_tokens as tokens,
    s.audio_seconds,
    s.characters,
    s.call_seconds,
    s.cost_usd + s.adjustments_usd as cost_usd
from public.period_summaries as s;

comment on view admin.user_usage is 'Usage per user, period, provider, kind and model (admins only).';
comment on column admin.user_usage.feature is 'chat (llm), speak (tts), transcribe (stt), phone (telephony).';
grant select on admin.user_usage to authenticated, service_role;
