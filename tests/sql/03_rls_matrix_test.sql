-- The RLS matrix: every exposed table × {anon, owner, another user, admin, admin with a user's
-- token} ×
-- {select, insert, update, delete}. Allowed cases touch rows; denied ones touch nothing or
-- raise 42501 (no privilege, or a row that fails a policy's check).
begin;
select plan(122);

select tests.create_user('owner@matrix.test') as owner \gset
select tests.create_user('other@matrix.test') as other \gset
select tests.create_user('admin@matrix.test', 'admin') as admin \gset
insert into public.agents (user_id, name) values (:'owner', 'Owner agent') returning id as agent \gset
insert into public.calls (agent_id, direction, status) values (:agent, 'inbound', 'completed');
insert into public.settings (key, value) values ('MATRIX', 'x');
select private.notify(:'owner', 'test', 'Hello', 'A note for the owner');
select private.record_usage(jsonb_build_object(
    'user_id', :'owner', 'provider', 'groq', 'kind', 'llm', 'model', 'llama-3.1-8b-instant',
    'input_tokens', 10, 'output_tokens', 5, 'idempotency_key', 'matrix-1', 'agent_id', :agent
));
insert into public.conversations (user_id, agent_id) values (:'owner', :agent) returning id as conversation \gset
insert into public.conversation_messages (conversation_id, user_id, role, content)
values (:'conversation', :'owner', 'user', 'hello');
insert into public.period_summaries (
    user_id, period_start, provider, kind, model, events, input_tokens, output_tokens,
    audio_seconds, characters, call_seconds, cost_usd
)
values (:'owner', '2020-01-01', 'groq', 'llm', 'x', 1, 1, 1, 0, 0, 0, 0.01);

-- The matrix below covers exactly these tables; a new exposed table fails here until it is added.
select set_eq(
    $$select tablename::text from pg_tables where schemaname in ('public', 'admin')$$,
    array[
        'plans', 'model_catalog', 'profiles', 'agents', 'calls', 'settings', 'subscriptions',
        'notifications', 'price_book', 'usage_events', 'usage_counters', 'usage_daily',
        'quota_warnings', 'period_summaries', 'conversations', 'conversation_messages'
    ],
    'the RLS matrix covers every exposed table'
);

-- ---------------------------------------------------------------- anon: nothing but the catalogues
select tests.authenticate_as_anon();
select ok((select count(*) from public.plans) > 0, 'anon reads plans');
select ok((select count(*) from public.model_catalog) > 0, 'anon reads the model catalog');
select throws_ok($$insert into public.plans (id, name, agent_limit, monthly_token_limit)
    values ('x', 'X', 1, 1)$$, '42501', null, 'anon cannot insert plans');
select throws_ok('update public.plans set name = name', '42501', null, 'anon cannot update plans');
select throws_ok('delete from public.plans', '42501', null, 'anon cannot delete plans');
select throws_ok('delete from public.model_catalog', '42501', null, 'anon cannot delete models');
select throws_ok('select * from public.profiles', '42501', null, 'anon cannot read profiles');
select throws_ok('select * from public.agents', '42501', null, 'anon cannot read agents');
select throws_ok($$insert into public.agents (name) values ('x')$$, '42501', null,
    'anon cannot create agents');
select throws_ok('update public.agents set name = name', '42501', null, 'anon cannot update agents');
select throws_ok('delete from public.agents', '42501', null, 'anon cannot delete agents');
select throws_ok('select * from public.calls', '42501', null, 'anon cannot read calls');
select throws_ok('select * from public.settings', '42501', null, 'anon cannot read settings');
select throws_ok('select * from public.subscriptions', '42501', null, 'anon cannot read subscriptions');
select throws_ok('select * from public.notifications', '42501', null, 'anon cannot read notifications');
select throws_ok('select * from public.api_keys', '42501', null, 'anon cannot read api keys');
select throws_ok('select * from public.price_book', '42501', null, 'anon cannot read the price book');
select throws_ok('select * from public.usage_events', '42501', null, 'anon cannot read usage');
select throws_ok('select * from public.usage_counters', '42501', null, 'anon cannot read counters');
select throws_ok('select * from public.usage_daily', '42501', null, 'anon cannot read daily usage');
select throws_ok('select * from public.quota_warnings', '42501', null, 'anon cannot read warnings');
select throws_ok('select * from public.period_summaries', '42501', null, 'anon cannot read summaries');
select throws_ok('select * from public.conversations', '42501', null, 'anon cannot read conversations');
select throws_ok('select * from public.conversation_messages', '42501', null,
    'anon cannot read messages');

-- ---------------------------------------------------------------- the owner
select tests.authenticate_as(:'owner');
select is((select count(*) from public.profiles), 1::bigint, 'the owner reads their profile');
select is(tests.affected($$update public.profiles set organization_name = 'O2'$$), 1::bigint,
    'the owner renames their organization');
select throws_ok($$insert into public.profiles (id, email, organization_name)
    values (gen_random_uuid(), 'x@y.z', 'x')$$, '42501', null, 'the owner cannot create profiles');
select throws_ok('delete from public.profiles', '42501', null, 'the owner cannot delete profiles');
select is((select count(*) from public.agents), 1::bigint, 'the owner reads their agent');
select is(tests.affected($$update public.agents set description = 'd'$$), 1::bigint,
    'the owner updates their agent');
select is(tests.affected($$insert into public.agents (name) values ('Second')$$), 1::bigint,
    'the owner creates an agent');
select is(tests.affected($$delete from public.agents where name = 'Second'$$), 1::bigint,
    'the owner deletes their agent');
select throws_ok('update public.agents set user_id = user_id', '42501', null,
    'the owner cannot reassign an agent');
select throws_ok($$update public.agents set status = 'active'$$, '42501', null,
    'the owner cannot set an agent''s status directly');
select is((select count(*) from public.calls), 1::bigint, 'the owner reads their calls');
select throws_ok($$insert into public.calls (agent_id, direction) values (1, 'inbound')$$,
    '42501', null, 'the owner cannot forge calls');
select throws_ok($$update public.calls set status = 'x'$$, '42501', null,
    'the owner cannot edit calls');
select throws_ok('delete from public.calls', '42501', null, 'the owner cannot delete calls');
select throws_ok('select * from public.settings', '42501', null, 'the owner cannot read settings');
select is((select count(*) from public.subscriptions), 1::bigint, 'the owner reads their subscription');
select throws_ok($$insert into public.subscriptions (user_id, plan_id) values (auth.uid(), 'pro')$$,
    '42501', null, 'the owner cannot grant themselves a subscription');
select throws_ok($$update public.subscriptions set plan_id = 'business'$$, '42501', null,
    'the owner cannot edit their subscription');
select throws_ok('delete from public.subscriptions', '42501', null,
    'the owner cannot delete their subscription');
select is((select count(*) from public.notifications), 1::bigint, 'the owner reads their notifications');
select is(tests.affected('update public.notifications set read_at = now()'), 1::bigint,
    'the owner marks a notification read');
select throws_ok($$update public.notifications set body = 'x'$$, '42501', null,
    'the owner cannot rewrite a notification');
select throws_ok($$insert into public.notifications (user_id, kind, title, body)
    values (auth.uid(), 'x', 'x', 'x')$$, '42501', null, 'the owner cannot forge notifications');
select throws_ok('delete from public.notifications', '42501', null,
    'the owner cannot delete notifications');
select is((select count(*) from public.api_keys), 3::bigint, 'the owner sees one api_keys row per provider');
select throws_ok('select ciphertext from private.provider_keys', '42501', null,
    'the owner cannot read ciphertext');
select is((select count(*) from public.usage_events), 1::bigint, 'the owner reads their usage events');
select throws_ok($$insert into public.usage_events (user_id, provider, kind, model, success,
    cost_usd, idempotency_key, period_start) values (auth.uid(), 'groq', 'llm', 'x', true, 0, 'k',
    current_date)$$, '42501', null, 'the owner cannot forge usage');
select throws_ok('update public.usage_events set cost_usd = 0', '42501', null,
    'the owner cannot rewrite usage');
select throws_ok('delete from public.usage_events', '42501', null, 'the owner cannot delete usage');
select is((select count(*) from public.usage_counters), 1::bigint, 'the owner reads their counters');
select throws_ok('update public.usage_counters set tokens_used = 0', '42501', null,
    'the owner cannot reset their counters');
select is((select count(*) from public.usage_daily), 1::bigint, 'the owner reads their daily usage');
select throws_ok('delete from public.usage_daily', '42501', null, 'the owner cannot delete rollups');
select throws_ok('delete from public.quota_warnings', '42501', null,
    'the owner cannot clear their warnings');
select is((select count(*) from public.period_summaries), 1::bigint, 'the owner reads their summaries');
select throws_ok('update public.period_summaries set cost_usd = 0', '42501', null,
    'the owner cannot edit summaries');
select is((select count(*) from public.conversations), 1::bigint, 'the owner reads their conversations');
select is((select count(*) from public.conversation_messages), 1::bigint,
    'the owner reads their messages');
select throws_ok($$insert into public.conversation_messages (conversation_id, user_id, role, content)
    select id, user_id, 'assistant', 'forged' from public.conversations$$, '42501', null,
    'the owner cannot forge messages');
select ok((select count(*) from public.price_book) > 0, 'users read the price book');
select throws_ok('update public.price_book set usd_per_unit = 0', '42501', null,
    'users cannot change prices');

-- ---------------------------------------------------------------- another user
select tests.authenticate_as(:'other');
select is((select count(*) from public.profiles where id = :'owner'), 0::bigint,
    'another user cannot read the owner''s profile');
select is(tests.affected(format($$update public.profiles set organization_name = 'x'
    where id = %L$$, :'owner')), 0::bigint, 'another user cannot rename the owner''s organization');
select is((select count(*) from public.agents), 0::bigint, 'another user cannot read the owner''s agents');
select throws_ok(format($$insert into public.agents (user_id, name) values (%L, 'x')$$, :'owner'),
    '42501', null, 'another user cannot create agents for the owner');
select is(tests.affected($$update public.agents set description = 'x'$$), 0::bigint,
    'another user cannot update the owner''s agents');
select is(tests.affected('delete from public.agents'), 0::bigint,
    'another user cannot delete the owner''s agents');
select is((select count(*) from public.calls), 0::bigint, 'another user cannot read the owner''s calls');
select throws_ok('delete from public.calls', '42501', null, 'another user cannot delete calls');
select is((select count(*) from public.subscriptions where user_id = :'owner'), 0::bigint,
    'another user cannot read the owner''s subscription');
select is((select count(*) from public.notifications), 0::bigint,
    'another user cannot read the owner''s notifications');
select is(tests.affected('update public.notifications set read_at = now()'), 0::bigint,
    'another user cannot mark the owner''s notifications');
select throws_ok('select * from public.settings', '42501', null, 'another user cannot read settings');
select throws_ok($$update public.plans set agent_limit = 1000$$, '42501', null,
    'another user cannot edit plans');
select is((select count(*) from public.api_keys where configured), 0::bigint,
    'another user sees no configured keys of the owner');
select is((select count(*) from public.usage_events), 0::bigint, 'another user sees none of the owner''s usage');
select is((select count(*) from public.usage_counters), 0::bigint, 'nor their counters');
select is((select count(*) from public.usage_daily), 0::bigint, 'nor their daily usage');
select is((select count(*) from public.period_summaries), 0::bigint, 'nor their summaries');
select is((select count(*) from public.conversations), 0::bigint, 'nor their conversations');
select is((select count(*) from public.conversation_messages), 0::bigint, 'nor their messages');

-- ---------------------------------------------------------------- an admin (reads all, writes through functions)
select tests.authenticate_as(:'admin');
select ok((select count(*) from public.profiles) >= 3, 'an admin reads every profile');
select is(tests.affected(format($$update public.profiles set organization_name = 'x'
    where id = %L$$, :'owner')), 0::bigint, 'an admin does not edit profiles directly');
select throws_ok('delete from public.profiles', '42501', null, 'an admin cannot delete profiles directly');
select is((select count(*) from public.agents where user_id = :'owner'), 1::bigint,
    'an admin reads every agent');
select throws_ok(format($$insert into public.agents (user_id, name) values (%L, 'x')$$, :'owner'),
    '42501', null, 'an admin cannot create agents for others');
select is(tests.affected(format($$update public.agents set description = 'x' where user_id = %L$$,
    :'owner')), 0::bigint, 'an admin cannot edit others'' agents directly');
select is(tests.affected(format('delete from public.agents where user_id = %L', :'owner')),
    0::bigint, 'an admin cannot delete others'' agents directly');
select is((select count(*) from public.calls where user_id = :'owner'), 1::bigint,
    'an admin reads every call');
select throws_ok('delete from public.calls', '42501', null, 'an admin cannot delete calls directly');
select is((select count(*) from public.subscriptions where user_id = :'owner'), 1::bigint,
    'an admin reads every subscription');
select throws_ok($$update public.subscriptions set plan_id = 'pro'$$, '42501', null,
    'an admin changes plans only through admin.change_plan');
select is((select count(*) from public.notifications where user_id = :'owner'), 1::bigint,
    'an admin reads every notification');
select is(tests.affected(format('update public.notifications set read_at = now() where user_id = %L',
    :'owner')), 0::bigint, 'an admin cannot mark others'' notifications');
select throws_ok('delete from public.notifications', '42501', null,
    'an admin cannot delete notifications');
select throws_ok('select * from public.settings', '42501', null,
    'an admin cannot read the legacy settings through the API');
select throws_ok($$insert into public.model_catalog (kind, id, provider, label)
    values ('llm', 'x', 'x', 'x')$$, '42501', null, 'an admin cannot edit the catalog directly');
select ok((select count(*) from admin.users) >= 3, 'an admin reads admin.users');
select is((select count(*) from public.usage_events where user_id = :'owner'), 1::bigint,
    'an admin reads every usage event');
select throws_ok('delete from public.usage_events', '42501', null,
    'not even an admin deletes usage through the API');
select is((select count(*) from public.conversation_messages where user_id = :'owner'), 1::bigint,
    'an admin reads conversations for support');

-- What an admin's role reads beyond the tables above, and how.
select is((select count(*) from public.conversations where user_id = :'owner'), 1::bigint,
    'an admin reads every conversation');
select is((select count(*) from public.usage_counters where user_id = :'owner'), 1::bigint,
    'an admin reads every usage counter');
select is((select count(*) from public.usage_daily where user_id = :'owner'), 1::bigint,
    'an admin reads every day of usage');
select is((select count(*) from public.period_summaries where user_id = :'owner'), 1::bigint,
    'an admin reads every period summary');
select lives_ok('select * from public.quota_warnings', 'an admin reads quota warnings');
select doesnt_match(
    tests.plan_of($$select * from public.usage_counters$$), 'Filter|InitPlan|Index Cond',
    'an admin''s reads carry no per-row check'
);
select throws_ok('select * from private.provider_keys', '42501', null,
    'an admin cannot read anyone''s sealed keys');
select is(
    (select count(*) from pg_policies where 'voxflow_admin' = any(roles) and cmd <> 'SELECT'),
    0::bigint, 'the admin role has read policies only: admins write through functions'
);

-- ---------------------------------------------------------------- an admin with a user's token
-- A token signed before the promotion (or by a hosted GoTrue without the hook) is a user's.
select tests.authenticate_with_role(:'admin', 'authenticated');
select is((select count(*) from public.profiles), 1::bigint,
    'an admin with a user''s token reads only their own profile');
select is((select count(*) from public.agents where user_id = :'owner'), 0::bigint,
    'nor others'' agents');
select is((select count(*) from public.usage_events where user_id = :'owner'), 0::bigint,
    'nor others'' usage');

-- ---------------------------------------------------------------- a tenant's plan
select tests.authenticate_as(:'owner');
-- With scans and sorts ruled out, only the owner index in the list's order can answer.
set local enable_seqscan = off;
set local enable_sort = off;
select matches(
    tests.plan_of($$select * from public.agents order by created_at desc$$),
    'Index Scan Backward using agents_user_id_idx',
    'a tenant''s list read is one index scan in the list''s order, with no sort'
);
reset enable_seqscan;
reset enable_sort;

-- ---------------------------------------------------------------- the service role (the v0 path)
select tests.authenticate_as_service_role();
select ok((select count(*) from public.settings) >= 1, 'the service role reads settings');
select ok((select count(*) from public.agents) >= 1, 'the service role reads every agent');

reset role;
select is(
    (select agent_count from public.profiles where id = :'owner'), 1,
    'the owner''s agent counter followed the inserts and deletes'
);

select * from finish();
rollback;
