-- public.usage_by_provider: the caller's current month by provider and kind, from the daily
-- rollup (at most a month of rows per user).
create or replace view public.usage_by_provider
with (security_invoker = true)
as
select
    d.user_id,
    d.period_start,
    d.provider,
    d.kind,
    sum(d.events) as events,
    sum(d.failures) as failures,
    sum(d.input_tokens) as input_tokens,
    sum(d.output_tokens) as output_tokens,
    sum(d.audio_seconds) as audio_seconds,
    sum(d.characters) as characters,
    sum(d.call_seconds) as call_seconds,
    sum(d.cost_usd) as cost_usd
from public.usage_daily as d
where
    d.user_id = (select auth.uid())
    and d.period_start = date_trunc('month', now() at time zone 'UTC')::date
group by d.user_id, d.period_start, d.provider, d.kind;

comment on view public.usage_by_provider is 'The caller''s current month by provider and kind.';
grant select on public.usage_by_provider to authenticated;
