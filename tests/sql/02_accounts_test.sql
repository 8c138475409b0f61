-- Accounts: profiles by trigger with free-plan defaults, protected columns, roles, audit.
begin;
select plan(28);

-- An unconfirmed sign-up, the way the sidecar inserts it.
insert into auth.users (id, aud, role, email, raw_user_meta_data, created_at, updated_at)
values (
    '11111111-1111-4111-8111-111111111111', 'authenticated', 'authenticated', 'owner@test.local',
    '{"organization_name": "Owner Org"}', now(), now()
);
select tests.create_user('other@test.local') as other \gset
select tests.create_user('boss@test.local', 'admin') as boss \gset

select results_eq(
    $$select role, plan_id, status, organization_name from public.profiles
      where id = '11111111-1111-4111-8111-111111111111'$$,
    $$values ('user'::text, 'free'::text, 'pending_verification'::text, 'Owner Org'::text)$$,
    'a new auth.users row gets a profile: role user, plan free, pending verification'
);
select results_eq(
    $$select pl.agent_limit, pl.monthly_token_limit from public.profiles p
      join public.plans pl on pl.id = p.plan_id
      where p.id = '11111111-1111-4111-8111-111111111111'$$,
    $$values (2, 1000::bigint)$$,
    'the free plan gives 2 agents and 1,000 tokens a month, read from public.plans'
);

update auth.users set email_confirmed_at = now() where id = '11111111-1111-4111-8111-111111111111';
select is(
    (select status from public.profiles where id = '11111111-1111-4111-8111-111111111111'),
    'active', 'confirming the email activates the profile'
);

-- As the owner.
select tests.authenticate_as('11111111-1111-4111-8111-111111111111');
select is((select count(*) from public.profiles), 1::bigint, 'a user sees exactly one profile');
select is(
    (select id from public.profiles), '11111111-1111-4111-8111-111111111111'::uuid,
    'and it is their own'
);
select throws_ok(
    $$update public.profiles set role = 'admin' where id = auth.uid()$$,
    '42501', null, 'a user cannot raise their own role'
);
select throws_ok(
    $$update public.profiles set plan_id = 'free' where id = auth.uid()$$,
    '42501', null, 'a user cannot change their own plan'
);
select throws_ok(
    $$update public.profiles set status = 'active' where id = auth.uid()$$,
    '42501', null, 'a user cannot change their own status'
);
select throws_ok(
    $$update public.profiles set agent_limit_override = 100 where id = auth.uid()$$,
    '42501', null, 'a user cannot raise their own agent limit'
);
select throws_ok(
    $$update public.profiles set monthly_token_limit_override = 1e9 where id = auth.uid()$$,
    '42501', null, 'a user cannot raise their own token limit'
);
select lives_ok(
    $$update public.profiles set organization_name = 'Renamed' where id = auth.uid()$$,
    'a user can rename their organization'
);
update public.profiles set organization_name = 'Hijacked' where id = :'other';
select ok(not private.is_admin(), 'a user is not an admin');
select throws_ok(
    format($$select admin.set_user_status(%L, 'suspended')$$, :'other'),
    'PGRST', null, 'a user cannot suspend anyone'
);

-- As another user.
select tests.authenticate_as(:'other');
select is(
    (select count(*) from public.profiles where id = '11111111-1111-4111-8111-111111111111'),
    0::bigint, 'another user cannot read the owner''s profile'
);
select is(
    (select organization_name from public.profiles where id = auth.uid()), 'Org of other@test.local',
    'the owner''s update of another profile changed nothing'
);

-- As an admin.
select tests.authenticate_as(:'boss');
select ok(private.is_admin(), 'an admin is an admin');
select cmp_ok(
    (select count(*) from public.profiles), '>=', 3::bigint, 'an admin reads every profile'
);

-- The admin role: only a current, active admin may hold it.
select tests.authenticate_as(:'boss');
select is(
    current_setting('request.jwt.claims')::jsonb ->> 'role', 'voxflow_admin',
    'the access token hook names an active admin''s role'
);
select lives_ok('select private.check_request()', 'an active admin passes the request check');
select tests.authenticate_with_role(:'other', 'voxflow_admin');
select throws_like(
    'select private.check_request()', '%stale_admin_token%',
    'a user holding an admin-role token is refused on the next request'
);
reset role;
update public.profiles set role = 'user' where id = :'boss';
select tests.authenticate_with_role(:'boss', 'voxflow_admin');
select throws_like(
    'select private.check_request()', '%stale_admin_token%',
    'a demoted admin''s token is refused on the next request'
);
select ok(not private.is_admin(), 'and it carries no admin rights');
reset role;
update public.profiles set role = 'admin', status = 'suspended' where id = :'boss';
select tests.authenticate_with_role(:'boss', 'voxflow_admin');
select throws_like(
    'select private.check_request()', '%user_banned%',
    'a suspended admin''s token is refused on the next request'
);
reset role;
update public.profiles set status = 'active' where id = :'boss';

-- A token signed while its holder was a plain user grants no admin rights: a promotion takes
-- effect with the next token.
select tests.authenticate_with_role(:'boss', 'authenticated');
select ok(not private.is_admin(), 'an admin holding a user''s token is no admin');
select set_config('request.headers', '{"accept-profile": "admin"}', true);
select throws_like(
    'select private.check_request()', '%not_admin%',
    'and the admin API refuses that token until the next one'
);
select set_config('request.headers', '{}', true);

-- Anonymous visitors.
select tests.authenticate_as_anon();
select throws_ok(
    'select * from public.profiles', '42501', null, 'anon cannot read profiles at all'
);
select ok((select count(*) from public.plans) >= 1, 'anon can read the plan catalogue');

reset role;
select throws_ok(
    $$update private.audit_log set action = 'edited'$$, 'PGRST', null,
    'the audit log cannot be edited, not even by its owner'
);

select * from finish();
rollback;
