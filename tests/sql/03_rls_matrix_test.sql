-- The RLS matrix: every exposed table × {anon, owner, another user, admin} ×
-- {select, insert, update, delete}. Allowed cases touch rows; denied ones touch nothing or
-- raise 42501 (no privilege, or a row that fails a policy's check).
begin;
select plan(76);

select tests.create_user('owner@matrix.test') as owner \gset
select tests.create_user('other@matrix.test') as other \gset
select tests.create_user('admin@matrix.test', 'admin') as admin \gset
insert into public.agents (user_id, name) values (:'owner', 'Owner agent') returning id as agent \gset
insert into public.calls (agent_id, direction, status) values (:agent, 'inbound', 'completed');
insert into public.settings (key, value) values ('MATRIX', 'x');
select private.notify(:'owner', 'test', 'Hello', 'A note for the owner');

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
