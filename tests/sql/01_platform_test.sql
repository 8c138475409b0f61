-- The Supabase-compatible platform: roles, schemas, auth.users and the JWT accessors.
begin;
select plan(15);

select has_role('anon', 'the anon API role exists');
select has_role('authenticated', 'the authenticated API role exists');
select has_role('service_role', 'the service_role API role exists');
select ok(
    (select rolcanlogin and not rolinherit from pg_roles where rolname = 'authenticator'),
    'authenticator logs in and does not inherit the API roles'' privileges'
);
select ok(
    pg_has_role('authenticator', 'authenticated', 'member')
    and pg_has_role('authenticator', 'anon', 'member')
    and pg_has_role('authenticator', 'service_role', 'member'),
    'authenticator may switch to each API role'
);
select ok(
    not (select rolsuper or rolcreaterole or rolcreatedb from pg_roles where rolname = 'authenticator'),
    'authenticator holds no other powers'
);
select ok(
    (select rolbypassrls from pg_roles where rolname = 'service_role'),
    'service_role bypasses RLS, as on Supabase'
);
select has_schema('auth', 'the auth schema exists');
select has_schema('extensions', 'the extensions schema exists');
select columns_are(
    'auth', 'users',
    array[
        'instance_id', 'id', 'aud', 'role', 'email', 'encrypted_password', 'email_confirmed_at',
        'invited_at', 'confirmation_token', 'confirmation_sent_at', 'recovery_token',
        'recovery_sent_at', 'last_sign_in_at', 'raw_app_meta_data', 'raw_user_meta_data',
        'is_super_admin', 'created_at', 'updated_at', 'phone', 'banned_until', 'deleted_at',
        'is_anonymous'
    ],
    'auth.users has Supabase''s column names'
);

select set_config(
    'request.jwt.claims',
    '{"sub": "8c5e3f1a-7d2b-4e9c-a1f0-3b6d9e2c4a71", "role": "authenticated", "email": "a@b.co"}',
    true
);
select is(auth.uid(), '8c5e3f1a-7d2b-4e9c-a1f0-3b6d9e2c4a71'::uuid, 'auth.uid() reads sub from request.jwt.claims');
select is(auth.role(), 'authenticated', 'auth.role() reads role from request.jwt.claims');
select is(auth.jwt() ->> 'email', 'a@b.co', 'auth.jwt() returns the whole claims object');

select set_config('request.jwt.claims', '', true);
select set_config('request.jwt.claim.sub', '1d4c0a52-9b7e-4f3a-8e6d-2c5b7a9f0e13', true);
select is(auth.uid(), '1d4c0a52-9b7e-4f3a-8e6d-2c5b7a9f0e13'::uuid, 'auth.uid() falls back to request.jwt.claim.sub');

select set_config('request.jwt.claim.sub', '', true);
select is(auth.uid(), null, 'auth.uid() is null without claims');

select * from finish();
rollback;
