-- Purpose: admins get their own API role, voxflow_admin, and tenants' policies become plain
--   owner checks. Owner read policies said `user_id = any(visible_user_ids())`: the caller
--   alone, or for an admin every profile, an array built on every statement (4 ms at 10,000
--   users) and compared row by row, so every admin read grew with the number of accounts (a
--   searched users overview 21 ms at 10,000 users, 6 ms without it); tenants paid for the
--   admin lookup in it (about 50 us a statement) and lost the index's order (an array match
--   cannot return rows sorted). Now:
--   - Tokens of active admins name the role voxflow_admin (bootstrapped in
--     sql/platform/supabase_compat.sql: a member of `authenticated`, so it may do all a user
--     may). private.custom_access_token_hook(event) decides the role, in the shape of
--     Supabase's custom access token hook: the sidecar runs it for every token it signs, and
--     a hosted project enables it as its hook.
--   - Read policies `to voxflow_admin using (true)` sit beside owner policies
--     `user_id = (select auth.uid())` (sql/policies); for an admin the planner folds the pair
--     to true, so admin reads carry no per-row check; for a tenant the index serves the
--     equality in its own order.
--   - private.is_admin() is true only under the admin role, for a profile that is still an
--     active admin, and private.check_request() (PostgREST's db-pre-request, and the
--     sidecar's on every user request) refuses an admin-role token whose holder was demoted
--     or suspended (401 stale_admin_token) and the admin schema to every other token: demotion
--     takes effect at once, a promotion with the next token. It also reads the JWT claims
--     once instead of parsing them for every accessor.
--   - private.set_price asks for admin rights from either user role.
-- Objects: private.custom_access_token_hook(jsonb) (new); private.check_request(),
--   private.is_admin(), private.set_price(...) (bodies); private.visible_user_ids() dropped
--   with the policies that called it (sql/policies replaces them: "owners read their ...",
--   "admins read all ..."), and the profiles policy "owners and admins read profiles".
-- Lock impact: none beyond replacing functions and policies; until sql/policies is applied
--   by the same push, owner tables answer tenants with no rows (never with others' rows).
-- Rollback: restores the three bodies and visible_user_ids(), drops the hook and the new
--   policies (pushing the previous sql/ restores its policies); the role stays, like the
--   other bootstrap roles (it is cluster-wide).

-- The API role of a token about to be signed, as a Supabase custom access token hook: the
-- event is {user_id, claims, ...}; the same event comes back with claims.role set to
-- voxflow_admin for an active admin, else authenticated. security definer: it reads the
-- profile for whoever signs tokens (the sidecar here, supabase_auth_admin on a hosted project).
create function private.custom_access_token_hook(event jsonb)
returns jsonb
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_admin boolean := exists (
        select 1 from public.profiles as p
        where p.id = (event ->> 'user_id')::uuid and p.role = 'admin' and p.status = 'active'
    );
begin
    return jsonb_set(
        event, '{claims,role}',
        to_jsonb(case when v_admin then 'voxflow_admin' else 'authenticated' end)
    );
end
$$;
revoke execute on function private.custom_access_token_hook(jsonb) from public;
grant execute on function private.custom_access_token_hook(jsonb) to voxflow_sidecar;
do $$
begin
    -- A hosted project's GoTrue calls its hook as supabase_auth_admin.
    if exists (select from pg_catalog.pg_roles where rolname = 'supabase_auth_admin') then
        grant usage on schema private to supabase_auth_admin;
        grant execute on function private.custom_access_token_hook(jsonb) to supabase_auth_admin;
    end if;
end
$$;

-- Whether the caller is an active admin now: only under the admin role, whose token the hook
-- signs for admins, and only while the profile still says so.
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
    if v_claims ->> 'role' is distinct from 'voxflow_admin' then
        return false;
    end if;
    return exists (
        select 1 from public.profiles as p
        where p.id = (v_claims ->> 'sub')::uuid and p.role = 'admin' and p.status = 'active'
    );
end
$$;

drop function private.visible_user_ids() cascade;
drop policy if exists "owners and admins read profiles" on public.profiles;

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
    -- Admin-role tokens of anyone but an active admin were refused above.
    if 'admin' in (v_headers ->> 'accept-profile', v_headers ->> 'content-profile')
        and v_api_role not in ('service_role', 'voxflow_admin') then
        perform private.raise_error(
            case when v_api_role = 'authenticated' then 403 else 401 end,
            'not_admin', 'Only admins may use the admin API',
            null, 'Sign in with an admin account (a newly made admin signs in again).'
        );
    end if;
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
