-- Supabase platform compatibility: what a hosted Supabase project already provides and our
-- migrations rely on. `voxflow db push` runs this before the migrations on any database; every
-- object is created only when missing, so on a Supabase project it changes nothing and the same
-- migrations apply there unchanged. Needs a role allowed to create roles (the cluster owner).

-- The API roles PostgREST switches to, and the login it connects as.
do $$
begin
    if not exists (select from pg_catalog.pg_roles where rolname = 'anon') then
        create role anon nologin noinherit;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'authenticated') then
        create role authenticated nologin noinherit;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'service_role') then
        create role service_role nologin noinherit bypassrls;
    end if;
    if not exists (select from pg_catalog.pg_roles where rolname = 'authenticator') then
        create role authenticator login noinherit;
    end if;
    -- Our sidecar's own login (not a Supabase role): it owns nothing and gets explicit grants
    -- from the migrations, and may switch to the API roles to act for a user under RLS.
    if not exists (select from pg_catalog.pg_roles where rolname = 'voxflow_sidecar') then
        create role voxflow_sidecar login noinherit;
    end if;
    -- Our admins' API role (not a Supabase role): everything `authenticated` may do, plus
    -- read-all policies of its own, so an admin's reads carry no per-row check at all. Only
    -- tokens the sidecar signs for active admins name it, and private.check_request() refuses
    -- it once the admin is demoted or suspended.
    if not exists (select from pg_catalog.pg_roles where rolname = 'voxflow_admin') then
        create role voxflow_admin nologin inherit;
    end if;
    grant authenticated to voxflow_admin;
    grant anon, authenticated, voxflow_admin, service_role to authenticator;
    grant anon, authenticated, voxflow_admin, service_role to voxflow_sidecar;
end
$$;

create schema if not exists extensions;
create schema if not exists auth;
grant usage on schema extensions to anon, authenticated, service_role, voxflow_sidecar;
grant usage on schema auth to anon, authenticated, service_role, voxflow_sidecar;

create extension if not exists pgcrypto with schema extensions;

-- auth.users with Supabase's column names, so a database moved to hosted Supabase keeps logins.
create table if not exists auth.users (
    instance_id uuid,
    id uuid primary key,
    aud varchar(255),
    role varchar(255),
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    invited_at timestamptz,
    confirmation_token varchar(255),
    confirmation_sent_at timestamptz,
    recovery_token varchar(255),
    recovery_sent_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz,
    updated_at timestamptz,
    phone text,
    banned_until timestamptz,
    deleted_at timestamptz,
    is_anonymous boolean not null default false
);

create unique index if not exists users_email_partial_key on auth.users (email)
where (is_anonymous = false);

-- The JWT accessors behave exactly like Supabase's: the claims PostgREST puts in
-- request.jwt.claims, falling back to the older per-claim settings.
do $$
begin
    if to_regprocedure('auth.uid()') is null then
        create function auth.uid() returns uuid
        language sql stable
        as $fn$
            select coalesce(
                nullif(current_setting('request.jwt.claim.sub', true), ''),
                (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'sub')
            )::uuid
        $fn$;
    end if;
    if to_regprocedure('auth.role()') is null then
        create function auth.role() returns text
        language sql stable
        as $fn$
            select coalesce(
                nullif(current_setting('request.jwt.claim.role', true), ''),
                (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'role')
            )::text
        $fn$;
    end if;
    if to_regprocedure('auth.email()') is null then
        create function auth.email() returns text
        language sql stable
        as $fn$
            select coalesce(
                nullif(current_setting('request.jwt.claim.email', true), ''),
                (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> 'email')
            )::text
        $fn$;
    end if;
    if to_regprocedure('auth.jwt()') is null then
        create function auth.jwt() returns jsonb
        language sql stable
        as $fn$
            select coalesce(
                nullif(current_setting('request.jwt.claim', true), ''),
                nullif(current_setting('request.jwt.claims', true), '')
            )::jsonb
        $fn$;
    end if;
end
$$;

grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt()
to anon, authenticated, service_role, voxflow_sidecar;
