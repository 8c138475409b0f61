-- Persona helpers for pgTAP (installed by the test harness, never by migrations; pg_prove only
-- picks up *_test.sql). Act as a user by setting `role` and `request.jwt.claims`, exactly as
-- PostgREST does for a request carrying that user's JWT.

create schema if not exists tests;
grant usage on schema tests to anon, authenticated, service_role;

-- A confirmed user (the accounts migration's trigger gives them a profile), optionally an admin.
create or replace function tests.create_user(p_email text, p_role text default 'user')
returns uuid
language plpgsql
as $$
declare
    v_id uuid := extensions.gen_random_uuid();
begin
    insert into auth.users (
        id, aud, role, email, encrypted_password, email_confirmed_at,
        raw_app_meta_data, raw_user_meta_data, created_at, updated_at
    )
    values (
        v_id, 'authenticated', 'authenticated', p_email,
        extensions.crypt('password-123', extensions.gen_salt('bf', 4)), now(),
        jsonb_build_object('provider', 'email', 'providers', array['email'], 'role', p_role),
        jsonb_build_object('organization_name', 'Org of ' || p_email),
        now(), now()
    );
    if p_role = 'admin' and to_regclass('public.profiles') is not null then
        execute 'update public.profiles set role = ''admin'' where id = $1' using v_id;
    end if;
    return v_id;
end
$$;

-- Act as this user for the rest of the transaction, with the API role their token would name
-- (the access token hook's: voxflow_admin for an active admin, else authenticated).
create or replace function tests.authenticate_as(p_user uuid)
returns void
language plpgsql
as $$
begin
    perform set_config('role', 'none', true);  -- the hook is the token signer's, not a user's
    perform tests.authenticate_with_role(
        p_user,
        private.custom_access_token_hook(
            jsonb_build_object('user_id', p_user, 'claims', '{}'::jsonb)
        ) -> 'claims' ->> 'role'
    );
end
$$;

-- Act as this user holding a token of this API role, whatever their profile says now (a token
-- signed before a promotion or a demotion).
create or replace function tests.authenticate_with_role(p_user uuid, p_role text)
returns void
language plpgsql
as $$
declare
    v_email text;
begin
    -- Back to the session's superuser first, so switching personas mid-test works.
    perform set_config('role', 'none', true);
    v_email := (select u.email from auth.users as u where u.id = p_user);
    perform set_config(
        'request.jwt.claims',
        jsonb_build_object(
            'sub', p_user, 'role', p_role, 'aud', 'authenticated', 'email', v_email
        )::text,
        true
    );
    perform set_config('role', p_role, true);
end
$$;

-- Act as a visitor without a token.
create or replace function tests.authenticate_as_anon()
returns void
language plpgsql
as $$
begin
    perform set_config('role', 'anon', true);
    perform set_config('request.jwt.claims', '{"role": "anon"}', true);
end
$$;

-- Act as the service role (the service_role API key).
create or replace function tests.authenticate_as_service_role()
returns void
language plpgsql
as $$
begin
    perform set_config('role', 'service_role', true);
    perform set_config('request.jwt.claims', '{"role": "service_role"}', true);
end
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role;

-- Run EXPLAIN as the current persona; the plan as text.
create or replace function tests.plan_of(p_query text)
returns text
language plpgsql
as $$
declare
    v_line text;
    v_plan text := '';
begin
    for v_line in execute 'explain (costs off) ' || p_query loop
        v_plan := v_plan || v_line || E'\n';
    end loop;
    return v_plan;
end
$$;

-- Rows a statement touched, run with the caller's rights (so RLS decides).
create or replace function tests.affected(p_sql text)
returns bigint
language plpgsql
as $$
declare
    v_count bigint;
begin
    execute p_sql;
    get diagnostics v_count = row_count;
    return v_count;
end
$$;

grant execute on all functions in schema tests to anon, authenticated, service_role;
