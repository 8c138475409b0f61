-- Undoes 20261113000000_add_admin_api_role: the previous request check, admin check, price
-- setter and visible_user_ids(); no token hook and none of the new read policies (pushing the
-- previous sql/ restores its own). The role stays: it is cluster-wide, like the other
-- bootstrap roles, and without policies it reads only what `authenticated` may.
drop function if exists private.custom_access_token_hook(jsonb);
drop policy if exists "owners read their profile" on public.profiles;
drop policy if exists "admins read all profiles" on public.profiles;
drop policy if exists "owners read their agents" on public.agents;
drop policy if exists "admins read all agents" on public.agents;
drop policy if exists "owners read their calls" on public.calls;
drop policy if exists "admins read all calls" on public.calls;
drop policy if exists "owners read their subscriptions" on public.subscriptions;
drop policy if exists "admins read all subscriptions" on public.subscriptions;
drop policy if exists "owners read their notifications" on public.notifications;
drop policy if exists "admins read all notifications" on public.notifications;
drop policy if exists "owners read their conversations" on public.conversations;
drop policy if exists "admins read all conversations" on public.conversations;
drop policy if exists "owners read their messages" on public.conversation_messages;
drop policy if exists "admins read all messages" on public.conversation_messages;
drop policy if exists "owners read their usage events" on public.usage_events;
drop policy if exists "admins read all usage events" on public.usage_events;
drop policy if exists "owners read their usage counters" on public.usage_counters;
drop policy if exists "admins read all usage counters" on public.usage_counters;
drop policy if exists "owners read their daily usage" on public.usage_daily;
drop policy if exists "admins read all daily usage" on public.usage_daily;
drop policy if exists "owners read their quota warnings" on public.quota_warnings;
drop policy if exists "admins read all quota warnings" on public.quota_warnings;
drop policy if exists "owners read their period summaries" on public.period_summaries;
drop policy if exists "admins read all period summaries" on public.period_summaries;

-- Whose rows the caller may read: themselves, or everyone for an active admin.
-- security definer: an admin's list is every profile, which the caller's RLS would filter.
create function private.visible_user_ids()
returns uuid []
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    if private.is_admin() then
        return array(select p.id from public.profiles as p);
    end if;
    return array[auth.uid()];
end
$$;
revoke execute on function private.visible_user_ids() from public;
grant execute on function private.visible_user_ids() to authenticated;

create or replace function private.check_request()
returns void
language plpgsql
stable
security definer
set search_path = ''
as $$
declare
    v_claims jsonb := auth.jwt();
    v_user uuid := auth.uid();
    v_status text;
    v_role text;
    v_banned_until timestamptz;
    v_revoked boolean;
    v_headers jsonb := coalesce(nullif(current_setting('request.headers', true), ''), '{}')::jsonb;
begin
    if auth.role() = 'authenticated' then
        select p.status, p.role, u.banned_until
        into v_status, v_role, v_banned_until
        from public.profiles as p
        join auth.users as u on u.id = p.id
        where p.id = v_user;
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
    end if;
    -- The admin schema is for admins only: 403 (401 without a token), never an empty 200.
    -- PostgREST picks the schema from Accept-Profile (reads) or Content-Profile (writes).
    if 'admin' in (v_headers ->> 'accept-profile', v_headers ->> 'content-profile')
        and auth.role() is distinct from 'service_role'
        and (v_role is distinct from 'admin' or v_status <> 'active') then
        perform private.raise_error(
            case when auth.role() = 'authenticated' then 403 else 401 end,
            'not_admin', 'Only admins may use the admin API',
            null, 'Sign in with an admin account.'
        );
    end if;
end
$$;

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
    if auth.role() = 'authenticated' then
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

create or replace function private.is_admin()
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
    return exists (
        select 1 from public.profiles as p
        where p.id = auth.uid() and p.role = 'admin' and p.status = 'active'
    );
end
$$;
