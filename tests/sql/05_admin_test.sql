-- The admin surface: users overview (filters, search index, RLS), analytics rollups on a
-- crafted data set, system health percentiles, the anomaly rules (each fires on crafted data
-- and stays quiet on a normal set, once per window), alert actions, and the audit chain
-- (tampering detected, redaction survived). Crafted data lives in early 2025 (a past the price
-- book covers) so the stack's own traffic never mixes in.
begin;
select plan(53);

select tests.create_user('boss@admin-test.local', 'admin') as boss \gset
select tests.create_user('ann@quokka-labs.test') as ann \gset
select tests.create_user('bob@quokka-labs.test') as bob \gset
select tests.create_user('carl@wombat.test') as carl \gset
select tests.create_user('dora@spiky.test') as dora \gset
select tests.create_user('eve@steady.test') as eve \gset

-- ---------------------------------------------------------------------------------------------
-- Users overview
-- ---------------------------------------------------------------------------------------------

select is(
    (
        select am.amname || ':' || opc.opcname
        from pg_index as i
        join pg_class as c on c.oid = i.indexrelid
        join pg_am as am on am.oid = c.relam
        join pg_opclass as opc on opc.oid = i.indclass[0]
        where c.relname = 'user_directory_search_trgm_idx'
    ),
    'gin:gin_trgm_ops',
    'the search column the overview exposes has a trigram index'
);

select tests.authenticate_as(:'boss');
select lives_ok(
    format($$select admin.set_user_status(%L, 'suspended')$$, :'bob'),
    'an admin suspends a user'
);
select lives_ok(format($$select admin.change_plan(%L, 'pro')$$, :'ann'), 'an admin upgrades a user');

reset role;
update auth.users set last_sign_in_at = now() where id = :'carl';
insert into public.usage_counters (user_id, period_start, tokens_used, cost_usd)
values
(:'carl', date_trunc('month', now() at time zone 'UTC')::date, 850, 0.5),
(:'dora', date_trunc('month', now() at time zone 'UTC')::date, 1200, 2.5);
analyze private.user_directory;

select tests.authenticate_as(:'boss');
-- Without sequential or full-index scans, only the trigram index can answer the ILIKE.
set local enable_seqscan = off;
set local enable_indexscan = off;
select matches(
    tests.plan_of($$select user_id from admin.users_overview where search ilike '%quokka-labs%'$$),
    'user_directory_search_trgm_idx',
    'an admin''s ILIKE search of the overview uses the trigram index'
);
reset enable_seqscan;
reset enable_indexscan;

select bag_eq(
    $$select email from admin.users_overview where search ilike '%QUOKKA-labs%'$$,
    $$values ('ann@quokka-labs.test'), ('bob@quokka-labs.test')$$,
    'search is case-insensitive across email and organization'
);
select results_eq(
    $$select email, status from admin.users_overview
      where search ilike '%quokka-labs%' and status = 'suspended'$$,
    $$values ('bob@quokka-labs.test'::text, 'suspended'::text)$$,
    'the overview filters by status'
);
select results_eq(
    $$select email, plan_id, token_limit from admin.users_overview
      where search ilike '%quokka-labs%' and plan_id = 'pro'$$,
    $$values ('ann@quokka-labs.test'::text, 'pro'::text, 1000000::bigint)$$,
    'the overview filters by plan and shows the plan''s limits'
);
select results_eq(
    format(
        $$select tokens_used, near_quota, over_quota, cost_usd from admin.users_overview
          where user_id in (%L, %L) order by tokens_used$$,
        :'carl', :'dora'
    ),
    $$values (850::bigint, true, false, 0.5::numeric), (1200::bigint, true, true, 2.5::numeric)$$,
    'near_quota is at 80 % of the month''s tokens, over_quota at 100 %, from the counters'
);
select results_eq(
    format(
        $$select user_id from admin.users_overview
          where user_id in (%L, %L) and last_active_at >= now() - interval '1 hour'$$,
        :'carl', :'ann'
    ),
    format($$values (%L::uuid)$$, :'carl'),
    'a sign-in makes a user active; last-active range filters work'
);

select tests.authenticate_as(:'ann');
update public.profiles set organization_name = 'Platypus Partners' where id = :'ann';
select is(
    (select count(*) from admin.users_overview), 1::bigint,
    'a user reading the overview directly sees only their own row (profiles RLS applies)'
);
select is((select count(*) from admin.audit_log), 0::bigint, 'a user reads no audit entries');
select is((select count(*) from admin.platform_totals), 0::bigint, 'a user gets no platform totals');
select is((select count(*) from private.platform_counts), 0::bigint, 'a user reads no platform counts');

reset role;
select private.refresh_platform_counts();
select tests.authenticate_as(:'boss');
select results_eq(
    $$select users_total, users_suspended, admins, agents_active, agents_suspended
      from admin.platform_totals$$,
    $$select count(*), count(*) filter (where status = 'suspended'),
        count(*) filter (where role = 'admin'),
        (select count(*) from public.agents where status = 'active'),
        (select count(*) from public.agents where status = 'suspended_over_limit')
      from public.profiles$$,
    'platform totals: accounts by status, admins and agents by status, as counted'
);
reset role;
select tests.create_user('late@admin-test.local') as late \gset
select tests.authenticate_as(:'boss');
select is(
    (select users_total from admin.platform_totals), (select count(*) - 1 from public.profiles),
    'totals are read from the last count, not counted on every read'
);
reset role;
update private.job_runs set last_run_at = '-infinity' where job = 'count_platform';
select ok(
    (private.run_analytics_jobs() ->> 'platform_counted')::boolean,
    'the analytics jobs count the platform when the count is due'
);
select tests.authenticate_as(:'boss');
select is(
    (select users_total from admin.platform_totals), (select count(*) from public.profiles),
    'the next count includes the new account'
);
select ok(
    (select counted_at >= now() - interval '1 second' from admin.platform_totals),
    'platform totals say when they were counted'
);
-- With sorting ruled out, only an index in the page's own order can answer it.
set local enable_sort = off;
select matches(
    tests.plan_of($$select user_id from admin.users_overview
      order by last_active_at desc nulls last limit 50$$),
    'Index Scan using user_directory_last_active_at_idx',
    'a page of the overview by last activity walks the index instead of sorting every account'
);
reset enable_sort;
select results_eq(
    $$select email from admin.users_overview where search ilike '%platypus%'$$,
    $$values ('ann@quokka-labs.test')$$,
    'renaming an organization updates the search text'
);

-- ---------------------------------------------------------------------------------------------
-- Analytics on a crafted day (2025-03-10): 2 sign-ups, 2 active users, 3 calls
-- ---------------------------------------------------------------------------------------------

reset role;
update public.profiles set created_at = '2025-03-10 08:00+00' where id in (:'ann', :'bob');
select private.record_usage(jsonb_build_object(
    'user_id', :'ann', 'provider', 'groq', 'kind', 'llm', 'model', 'llama-3.3-70b-versatile',
    'input_tokens', 1000, 'output_tokens', 500, 'latency_ms', 300, 'success', true,
    'idempotency_key', 'pgtap-admin-1', 'occurred_at', '2025-03-10 10:00+00'
)) as recorded \gset
select private.record_usage(jsonb_build_object(
    'user_id', :'ann', 'provider', 'deepgram', 'kind', 'stt', 'model', 'nova-3',
    'audio_seconds', 120, 'success', true,
    'idempotency_key', 'pgtap-admin-2', 'occurred_at', '2025-03-10 10:05+00'
)) as recorded \gset
select private.record_usage(jsonb_build_object(
    'user_id', :'bob', 'provider', 'deepgram', 'kind', 'tts', 'model', 'aura-2-thalia-en',
    'characters', 2000, 'success', true,
    'idempotency_key', 'pgtap-admin-3', 'occurred_at', '2025-03-10 11:00+00'
)) as recorded \gset
select tokens as tokens_before, cost_usd as cost_before from admin.platform_totals \gset
select private.record_usage(jsonb_build_object(
    'user_id', :'carl', 'provider', 'groq', 'kind', 'llm', 'model', 'llama-3.1-8b-instant',
    'input_tokens', 70, 'output_tokens', 30, 'success', true, 'idempotency_key', 'pgtap-admin-4'
)) as recorded \gset
select ok(
    (select events_folded >= 4 from (
        select (private.refresh_analytics() ->> 'events_folded')::bigint as events_folded
    ) as r),
    'a refresh folds the queued events into the rollups'
);

select tests.authenticate_as(:'boss');
select results_eq(
    $$select signups, active_users, provider_calls, tokens, cost_usd
      from admin.daily_trends where day = '2025-03-10'$$,
    $$values (2, 2, 3::numeric, 1500::numeric, 0.069585::numeric)$$,
    'daily trends: sign-ups, active users, calls, tokens and cost of the day'
);
select results_eq(
    $$select signups, active_users, provider_calls from admin.monthly_trends
      where month = '2025-03-01'$$,
    $$values (2, 2, 3::numeric)$$,
    'monthly trends count the month''s sign-ups, distinct active users and calls'
);
select results_eq(
    $$select feature, provider_calls, tokens, audio_minutes, characters
      from admin.feature_usage where period_start = '2025-03-01' order by feature$$,
    $$values
        ('chat'::text, 1::numeric, 1500::numeric, 0.00::numeric, 0::numeric),
        ('speak', 1, 0, 0.00, 2000),
        ('transcribe', 1, 0, 2.00, 0)$$,
    'feature usage maps llm to chat, tts to speak, stt to transcribe'
);
select results_eq(
    $$select plan_id, sum(cost_usd), sum(share_of_month) from admin.cost_breakdown
      where period_start = '2025-03-01' group by plan_id order by plan_id$$,
    $$values ('free'::text, 0.06::numeric, 0.8623::numeric), ('pro', 0.009585, 0.1378)$$,
    'cost breakdown by plan (the plan at the time of the call) with shares of the month (rounded per row)'
);
select is(
    (select tokens - :tokens_before from admin.platform_totals), 100::numeric,
    'platform totals add this month''s tokens as they are folded'
);
select ok(
    (select usage_as_of >= now() - interval '1 second' from admin.platform_totals),
    'platform totals say how fresh the usage is'
);
select results_eq(
    format(
        $$select feature, events, tokens from admin.user_usage
          where user_id = %L and period_start = '2025-03-01' order by feature$$, :'ann'
    ),
    $$values ('chat'::text, 1::bigint, 1500::bigint), ('transcribe', 1, 0)$$,
    'a user''s usage by feature and period, filtered by user'
);

-- ---------------------------------------------------------------------------------------------
-- System health: histograms and percentiles
-- ---------------------------------------------------------------------------------------------

reset role;
select is(
    private.latency_histogram(array[1, 25, 25, 70000, null]),
    array[1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]::bigint [],
    'latencies fall into the bucket of the smallest bound at or above them'
);
select private.record_http_stats(jsonb_build_array(jsonb_build_object(
    'minute', date_trunc('minute', now()), 'route', '/pgtap/health', 'requests', 100,
    'client_errors', 10, 'server_errors', 5, 'latency_ms_total', 2500,
    'latency_hist', array[0, 0, 0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
))) as recorded \gset
select tests.authenticate_as(:'boss');
select results_eq(
    $$select granularity, requests, client_error_rate, server_error_rate, p50_ms, p95_ms, p99_ms
      from admin.system_health where name = '/pgtap/health' order by granularity$$,
    $$values
        ('hour'::text, 100::bigint, 0.1::numeric, 0.05::numeric, 25.0::numeric, 29.5::numeric, 29.9::numeric),
        ('minute', 100, 0.1, 0.05, 25.0, 29.5, 29.9)$$,
    'system health per minute and hour: rates and interpolated percentiles'
);

-- ---------------------------------------------------------------------------------------------
-- Anomaly rules: crafted at 2025-03-10 12:07, a normal set at 2025-04-10 12:07
-- ---------------------------------------------------------------------------------------------

reset role;
-- dora: about 2.5 USD a day, then 40; eve: the same history, then 3.2.
insert into public.usage_daily (user_id, day, period_start, provider, kind, model, events, cost_usd)
select u.id, d.day::date, date_trunc('month', d.day)::date, 'groq', 'llm', 'pgtap-model', 10,
    case when d.day::date = '2025-03-10' then u.spike else 2 + (extract(day from d.day)::integer % 3) * 0.5 end
from (values (:'dora'::uuid, 40), (:'eve'::uuid, 3.2)) as u (id, spike)
cross join generate_series('2025-02-24'::timestamp, '2025-03-10', '1 day') as d (day);
-- eve again in April: an ordinary day after ordinary days.
insert into public.usage_daily (user_id, day, period_start, provider, kind, model, events, cost_usd)
select :'eve', d.day::date, date_trunc('month', d.day)::date, 'groq', 'llm', 'pgtap-model', 10,
    2 + (extract(day from d.day)::integer % 3) * 0.5
from generate_series('2025-03-27'::timestamp, '2025-04-10', '1 day') as d (day);

-- Providers: 80 % failures in the window (fires), 3 % (quiet); in April a provider at 50 %
-- whose previous 24 hours were as bad (no spike: quiet).
insert into private.health_rollups (
    granularity, bucket_start, source, name, requests, server_errors, latency_hist
)
select 'minute', t.at, t.source, t.name, t.requests, t.errors, array_fill(0::bigint, array[25])
from (values
    ('2025-03-10 12:01+00'::timestamptz, 'provider', 'groq/pgtap', 10, 8),
    ('2025-03-10 12:02+00', 'provider', 'groq/pgtap', 10, 8),
    ('2025-03-10 12:03+00', 'provider', 'groq/pgtap', 10, 8),
    ('2025-03-10 12:02+00', 'provider', 'deepgram/pgtap', 30, 1),
    ('2025-03-10 12:04+00', 'route', '/rest/v1/agents', 100, 30),
    ('2025-04-10 12:02+00', 'provider', 'twilio/pgtap', 40, 20),
    ('2025-04-10 12:04+00', 'route', '/rest/v1/agents', 100, 1)
) as t (at, source, name, requests, errors);
insert into private.health_rollups (
    granularity, bucket_start, source, name, requests, server_errors, latency_hist
)
select 'hour', h, 'provider', 'twilio/pgtap', 100, 50, array_fill(0::bigint, array[25])
from generate_series('2025-04-09 13:00+00'::timestamptz, '2025-04-10 11:00+00', '1 hour') as h;

-- Sign-ups and failed sign-ins from one IP: 25 each (fires); in April 5 and 3 (quiet).
insert into private.audit_log (occurred_at, action, target_type, ip)
select
    '2025-03-10 12:00+00'::timestamptz + i * interval '10 seconds', a.action, 'user', a.ip::inet
from generate_series(1, 25) as i
cross join (values ('user.signed_up', '203.0.113.7'), ('login.failed', '203.0.113.8')) as a (action, ip);
insert into private.audit_log (occurred_at, action, target_type, ip)
select '2025-04-10 12:00+00'::timestamptz + i * interval '10 seconds', a.action, 'user', '203.0.113.9'
from (values ('user.signed_up', 5), ('login.failed', 3)) as a (action, n)
cross join lateral generate_series(1, a.n) as i;

-- A call to a model the price book does not know (priced at 0), and a priced one in April.
select private.record_usage(jsonb_build_object(
    'user_id', :'carl', 'provider', 'groq', 'kind', 'llm', 'model', 'pgtap-unpriced',
    'input_tokens', 400, 'output_tokens', 100, 'success', true,
    'idempotency_key', 'pgtap-admin-5', 'occurred_at', '2025-03-10 11:30+00'
)) as recorded \gset
select private.record_usage(jsonb_build_object(
    'user_id', :'carl', 'provider', 'groq', 'kind', 'llm', 'model', 'llama-3.1-8b-instant',
    'input_tokens', 400, 'output_tokens', 100, 'success', true,
    'idempotency_key', 'pgtap-admin-6', 'occurred_at', '2025-04-10 11:30+00'
)) as recorded \gset

create temp table raised as
select rule, subject, window_start, evidence from private.detect_anomalies('2025-03-10 12:07+00');

select bag_eq(
    'select rule, subject from raised',
    format(
        $$values ('cost_spike', %L), ('provider_errors', 'groq/pgtap'),
          ('gateway_5xx', 'gateway'), ('signup_burst', '203.0.113.7'),
          ('failed_login_burst', '203.0.113.8'), ('pricing_gap', 'groq/llm/pgtap-unpriced')$$,
        :'dora'
    ),
    'each rule fires on its crafted anomaly, and nothing else does'
);
select is(
    (select window_start from raised where rule = 'cost_spike'), '2025-03-10 00:00+00'::timestamptz,
    'a cost spike is raised for its day'
);
select ok(
    (select (evidence ->> 'cost_usd')::numeric = 40
        and (evidence ->> 'threshold_usd')::numeric between 3 and 5 from raised
     where rule = 'cost_spike'),
    'the evidence shows the cost against the user''s baseline threshold'
);
select is(
    (select window_start from raised where rule = 'provider_errors'),
    '2025-03-10 12:00+00'::timestamptz, 'error-rate alerts name their 15-minute window'
);
select is(
    (select (evidence ->> 'count')::integer from raised where rule = 'signup_burst'), 25,
    'a sign-up burst counts the sign-ups from the IP'
);
select is_empty(
    $$select * from private.detect_anomalies('2025-03-10 12:07+00')$$,
    'running the detector again raises nothing new: once per rule, subject and window'
);
select is_empty(
    $$select * from private.detect_anomalies('2025-04-10 12:07+00')$$,
    'no rule fires on a normal data set (a bad provider that was as bad before is no spike)'
);

-- ---------------------------------------------------------------------------------------------
-- Alert actions
-- ---------------------------------------------------------------------------------------------

select id as alert_id from private.alerts
where rule = 'gateway_5xx' and window_start = '2025-03-10 12:00+00' \gset

select tests.authenticate_as(:'ann');
select throws_ok(
    format('select admin.acknowledge_alert(%s)', :alert_id), 'PGRST', null,
    'a user cannot acknowledge an alert'
);
select tests.authenticate_as(:'boss');
select is(
    admin.acknowledge_alert(:alert_id) ->> 'status', 'acknowledged', 'an admin acknowledges an alert'
);
select throws_ok(
    format('select admin.acknowledge_alert(%s)', :alert_id), 'PGRST', null,
    'an acknowledged alert cannot be acknowledged again'
);
select is(admin.resolve_alert(:alert_id) ->> 'status', 'resolved', 'an admin resolves it');
select results_eq(
    format(
        $$select status, acknowledged_by, resolved_by from admin.alerts where id = %s$$, :alert_id
    ),
    format($$values ('resolved'::text, %L::uuid, %L::uuid)$$, :'boss', :'boss'),
    'the alert records who acknowledged and resolved it'
);
reset role;
select results_eq(
    format(
        $$select actor_id, action, before, after from private.audit_log
          where target_type = 'alert' and target_id = '%s' order by id$$, :alert_id
    ),
    format(
        $$values
            (%L::uuid, 'admin.alert_acknowledged'::text, '{"status": "open"}'::jsonb,
             '{"status": "acknowledged"}'::jsonb),
            (%L, 'admin.alert_resolved', '{"status": "acknowledged"}', '{"status": "resolved"}')$$,
        :'boss', :'boss'
    ),
    'each alert action is audited once with its before and after'
);

-- ---------------------------------------------------------------------------------------------
-- The audit chain
-- ---------------------------------------------------------------------------------------------

select is(
    (select problem from private.verify_audit_chain()), null, 'the audit chain verifies'
);

select tests.create_user('gone@leaving.test') as gone \gset
select private.audit('user.signed_up', 'user', :'gone', null, '{"plan_id": "free"}', :'gone')
as recorded \gset
select private.audit('login.failed', 'email', 'gone@leaving.test', null, null, :'gone')
as recorded \gset
select private.delete_account(:'gone', false) as deleted \gset
select ok(
    (select bool_and(redacted_at is not null and actor_email is null and after is null)
     from private.audit_log where actor_id = :'gone'),
    'deleting an account redacts its entries'
);
select results_eq(
    $$select problem, redacted >= 2 from private.verify_audit_chain()$$,
    $$values (null::text, true)$$,
    'the chain still verifies after a deletion''s redaction'
);

select private.audit('pgtap.first', 'user', null, null, '{"plan_id": "free"}', null) as first_id \gset
select private.audit('pgtap.second', 'user', null, null, null, null) as second_id \gset

savepoint tamper;
set local session_replication_role = replica;
update private.audit_log set after = '{"plan_id": "business"}' where id = :first_id;
set local session_replication_role = origin;
select first_bad_id as edited_bad, problem as edited_problem from private.verify_audit_chain() \gset
rollback to savepoint tamper;

savepoint tamper;
set local session_replication_role = replica;
update private.audit_log set action = 'pgtap.renamed' where id = :first_id;
set local session_replication_role = origin;
select first_bad_id as renamed_bad from private.verify_audit_chain() \gset
rollback to savepoint tamper;

savepoint tamper;
set local session_replication_role = replica;
delete from private.audit_log where id = :first_id;
set local session_replication_role = origin;
select first_bad_id as removed_bad, problem as removed_problem from private.verify_audit_chain() \gset
rollback to savepoint tamper;

savepoint tamper;
set local session_replication_role = replica;
delete from private.audit_log where id = :second_id;
set local session_replication_role = origin;
select first_bad_id as truncated_bad from private.verify_audit_chain() \gset
rollback to savepoint tamper;

savepoint tamper;
set local session_replication_role = replica;
update private.audit_log set after = null, redacted_at = now() where id = :first_id;
set local session_replication_role = origin;
select first_bad_id as faked_bad, problem as faked_problem from private.verify_audit_chain() \gset
rollback to savepoint tamper;

select is(:'edited_bad'::bigint, :'first_id'::bigint, 'an edited entry is named as the first bad one');
select is(:'edited_problem'::text, 'entry content was changed', 'and the problem is its content');
select is(:'renamed_bad'::bigint, :'first_id'::bigint, 'an edited action breaks the entry''s hash');
select is(
    :'removed_bad'::bigint, :'second_id'::bigint,
    'a removed entry is found at the entry after it'
);
select is(
    :'truncated_bad'::bigint, :'first_id'::bigint,
    'removing the newest entry is found against the chain head'
);
select is(
    :'faked_problem'::text, 'redacted without an account deletion',
    'a redaction without an account deletion is not accepted'
);
select is(
    (select problem from private.verify_audit_chain()), null,
    'the chain verifies again once the tampering is undone'
);

select * from finish();
rollback;
