-- Purpose: admins read the platform under their own API role, voxflow_admin, instead of as
--   `authenticated` with an array of every user id. Owner policies say
--   `user_id = any(visible_user_ids())`, which for an admin is every profile: built on every
--   statement (4 ms at 10,000 users) and compared row by row or descended once per user, so
--   every admin read grew with the number of accounts (a searched users overview 21 ms at
--   10,000 users, 6 ms without the array). The sidecar now signs admins' tokens with
--   role voxflow_admin (bootstrapped in sql/platform/supabase_compat.sql: a member of
--   `authenticated`, so it may do all a user may); read policies `to voxflow_admin using
--   (true)` in sql/policies OR with the owner policies and the planner folds the pair to
--   true, so an admin's reads carry no per-row check. Tenants' plans are unchanged.
--   The guard is the request check: private.check_request() (PostgREST's db-pre-request, and
--   the sidecar's on every user request) now refuses a voxflow_admin token whose owner is no
--   longer an active admin (401 stale_admin_token), so demotion still takes effect at once.
--   It also reads the JWT claims once instead of parsing them for every accessor.
--   private.is_admin(), which every read policy runs once per statement, answers false
--   without a profile lookup when the token was signed for a plain user (app_metadata.role
--   'user', as the sidecar signs it): tenant reads pay one claims parse for it instead of
--   three lookups and parses (about 50 to 20 us per statement). Admin rights can only be
--   denied by a claim, never granted: demotion still takes effect at once, a promotion with
--   the next token, and the request check's admin-schema gate agrees.
--   private.set_price asks for admin rights from either user role.
--   On hosted Supabase, GoTrue signs `authenticated` for everyone unless a custom access token
--   hook sets the role; admins then keep working through visible_user_ids(), as before.
-- Objects: private.check_request(), private.is_admin(), private.set_price(...) (bodies); the
--   read policies
--   "admins read all ..." on profiles, agents, calls, subscriptions, notifications,
--   conversations, conversation_messages and the five usage tables (sql/policies).
-- Lock impact: none beyond replacing three functions.
-- Rollback: restores the three bodies and drops the voxflow_admin policies (the role itself stays,
--   like the other bootstrap roles: it is cluster-wide).

-- PostgREST's db-pre-request, also called by the sidecar on every user request. security
-- definer: it reads profiles, bans and sessions the caller cannot see.
create or replace function private.check_request()
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    -- Parsed once: every auth.* accessor would parse the claims text again.
    v_claims jsonb := coalesce(auth.jwt(), '{}');
    v_api_role text := v_claims ->> 'role';
    v_status text;
    v_role text;
    v_banned_until timestamptz;
    v_revoked boolean;
    v_headers jsonb := coalesce(nullif(current_setting('request.headers', true), ''), '{}')::jsonb;
begin
    if v_api_role in ('authenticated', 'voxflow_admin') then
        select p.status, p.role, u.banned_until
        into v_status, v_role, v_banned_until
        from public.profiles as p
        join auth.users as u on u.id = p.id
        where p.id = (v_claims ->> 'sub')::uuid;
        if not found then
            perform private.raise_error(
                401, 'user_not_found', 'This account no longer exists',
                null, 'Sign up again or contact support.'
            );
        end if;
        if v_status = 'suspended' or v_banned_until > now() then
            perform private.raise_error(
                401, 'user_banned', 'This account is suspended',
                null, 'Contact support to have it reactivated.'
            );
        end if;
        if v_claims ? 'session_id' then
            select s.revoked_at is not null into v_revoked
            from private.sessions as s
            where s.id = (v_claims ->> 'session_id')::uuid;
            if v_revoked is distinct from false then
                perform private.raise_error(
                    401, 'session_not_found', 'This session has ended', null, 'Sign in again.'
                );
            end if;
        end if;
        -- The admin role reads every row unchecked: only a current, active admin may hold it.
        if v_api_role = 'voxflow_admin' and (v_role <> 'admin' or v_status <> 'active') then
            perform private.raise_error(
                401, 'stale_admin_token', 'This token was issued to an admin, and you no '
                || 'longer have admin rights',
                null, 'Refresh the session or sign in again for a token of your current role.'
            );
        end if;
    end if;
    -- The admin schema is for admins only: 403 (401 without a token), never an empty 200.
    -- PostgREST picks the schema from Accept-Profile (reads) or Content-Profile (writes).
    if 'admin' in (v_headers ->> 'accept-profile', v_headers ->> 'content-profile')
        and v_api_role is distinct from 'service_role'
        and (
            v_role is distinct from 'admin' or v_status <> 'active'
            or v_claims -> 'app_metadata' ->> 'role' = 'user'  -- as is_admin() judges
        ) then
        perform private.raise_error(
            case when v_api_role = 'authenticated' then 403 else 401 end,
            'not_admin', 'Only admins may use the admin API',
            null, 'Sign in with an admin account (newly made admins sign in again).'
        );
    end if;
end
$$;

-- Whether the caller is an active admin now. A token signed for a plain user settles it
-- without a lookup (a claim can only take rights away); any other token is checked against
-- the profile, so a demoted or suspended admin is no admin on their next statement.
-- security definer: it reads the caller's profile whatever the policies say.
create or replace function private.is_admin()
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_claims jsonb := auth.jwt();
begin
    if v_claims -> 'app_metadata' ->> 'role' = 'user' then
        return false;
    end if;
    return exists (
        select 1 from public.profiles as p
        where p.id = (v_claims ->> 'sub')::uuid and p.role = 'admin' and p.status = 'active'
    );
end
$$;

-- As in 20261112000000, but an admin's own role is a user role too.
create or replace function private.set_price(
    p_provider text, p_model text, p_unit text, p_usd_per_unit numeric, p_source text,
    p_actor_id uuid default auth.uid()
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_old public.price_book;
    v_id bigint;
begin
    if auth.role() in ('authenticated', 'voxflow_admin') then
        perform private.assert_admin();
    end if;
    if p_usd_per_unit is null or p_usd_per_unit < 0 then
        perform private.raise_error(400, 'invalid_price', 'A price is a number of USD, at least 0');
    end if;
    if coalesce(p_model, '') = '' then
        perform private.raise_error(
            400, 'invalid_price_key', 'A price needs a model', null,
            'Name the model, or * for the provider''s default price.'
        );
    end if;
    select * into v_old from public.price_book
    where provider = p_provider and model = p_model and unit = p_unit and effective_to is null
    for update;
    if found and v_old.usd_per_unit = p_usd_per_unit then
        return v_old.id;
    end if;
    begin
        update public.price_book set effective_to = now() where id = v_old.id;
        insert into public.price_book (
            provider, model, unit, usd_per_unit, effective_from, source, taken_on
        )
        values (p_provider, p_model, p_unit, p_usd_per_unit, now(), p_source, current_date)
        returning id into v_id;
    exception when check_violation or not_null_violation or unique_violation then
        -- The table's constraints name the providers and units; say it in words.
        perform private.raise_error(
            400, 'invalid_price_key',
            format('No price can be set for %s/%s per %s', p_provider, p_model, p_unit), null,
            'Providers are groq, deepgram and twilio; units input_token, output_token, '
            || 'audio_second, character and minute. A key changes once per transaction.'
        );
    end;
    perform private.audit(
        'price.changed', 'price', format('%s/%s/%s', p_provider, p_model, p_unit),
        case when v_old.id is null then null
            else jsonb_build_object('usd_per_unit', v_old.usd_per_unit) end,
        jsonb_build_object('usd_per_unit', p_usd_per_unit, 'source', p_source),
        p_actor_id
    );
    return v_id;
end
$$;
