-- Purpose: alerts reach the admins without polling (issue 14, requirement 6.6).
--   - A trigger on private.alerts fires for each alert the detector really inserts (a row its
--     ON CONFLICT DO NOTHING skipped is no insert), so each alert reaches each admin once, in
--     the detector's transaction: every active admin gets an in-app notification (kind
--     'admin_alert', data {alert_id, rule, severity, subject, link}), and those who did not turn
--     alert mail off get a mail through the outbox the worker drains, linking to
--     <site url>/admin/alerts?alert=<id>. Plain users get nothing. The site URL is the
--     worker's VOXFLOW_SITE_URL, recorded in private.platform_settings when it starts
--     (private.record_site_url); until one is recorded the mail names the path alone.
--   - private.alert_preferences holds each admin's choice (no row: mail on). Its policies let
--     an admin write only their own row; admin.set_alert_email(enabled) writes it as the caller
--     (security invoker, so those policies decide), and a trigger audits every change
--     ('admin.alert_email_changed', before and after). admin.alert_preferences (sql/views)
--     shows every active admin's choice.
--   - A partial index on the active admins serves the fan-out (and the last-admin check)
--     without reading every profile.
-- Objects: table private.alert_preferences (+ RLS, sql/policies/alert_preferences.sql);
--   index public.profiles_active_admins_idx; triggers after_insert_notify_admins on
--   private.alerts and after_change_audit on private.alert_preferences with their functions;
--   private.record_site_url(text); admin.set_alert_email(boolean); view
--   admin.alert_preferences (sql/views).
-- Lock impact: building the partial index blocks writes to public.profiles while it reads the
--   table once (well under a second at 100,000 accounts); creating the trigger on
--   private.alerts waits for a detector run in progress (the only writer).
-- Rollback: drops all of the above and the recorded site URL; notifications and mail already
--   sent stay (they are the admins' now), as do the audit entries of preference changes.

-- ---------------------------------------------------------------------------------------------
-- Tables
-- ---------------------------------------------------------------------------------------------

create table private.alert_preferences (
    user_id uuid primary key references auth.users (id) on delete cascade,
    email_enabled boolean not null default true,
    updated_at timestamptz not null default now()
);
comment on table private.alert_preferences is
'How anomaly alerts reach each admin; no row means mail on. Read through admin.alert_preferences, '
'changed with admin.set_alert_email (audited).';
comment on column private.alert_preferences.email_enabled is
'Mail each new alert; the in-app notification is sent either way.';

create index profiles_active_admins_idx on public.profiles (id)
where role = 'admin' and status = 'active';

-- ---------------------------------------------------------------------------------------------
-- Helpers
-- ---------------------------------------------------------------------------------------------

-- Where the console is, for the links of mail that SQL writes (alert mail); the worker records
-- its VOXFLOW_SITE_URL when it starts. security definer: platform settings are not the
-- sidecar's to write, this one key excepted.
create function private.record_site_url(p_url text)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
    if p_url !~ '^https?://[^/]' then
        raise exception 'a site URL starts with http:// or https://, not %', p_url;
    end if;
    insert into private.platform_settings as s (key, value)
    values ('site_url', rtrim(p_url, '/'))
    on conflict (key) do update set value = excluded.value, updated_at = now()
    where s.value is distinct from excluded.value;
end
$$;
revoke execute on function private.record_site_url(text) from public;
grant execute on function private.record_site_url(text) to voxflow_sidecar;

-- ---------------------------------------------------------------------------------------------
-- Triggers
-- ---------------------------------------------------------------------------------------------

-- A new alert, told to every active admin: a notification each, and a mail through the outbox
-- (as private.notify does) to those whose alert mail is on. Runs in the detector's
-- transaction, which owns the alert, the notifications and the mail alike.
create function private.tg_alerts__notify_admins()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
    v_path text := '/admin/alerts?alert=' || new.id;
    v_link text := coalesce(
        (select s.value from private.platform_settings as s where s.key = 'site_url'), ''
    ) || v_path;
    v_body text := format(
        '%s alert (%s) about %s, raised %s.', initcap(new.severity), new.rule, new.subject,
        to_char(new.raised_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI "UTC"')
    );
begin
    with recipients as materialized (
        select p.id, u.email, coalesce(a.email_enabled, true) as email_enabled
        from public.profiles as p
        join auth.users as u on u.id = p.id
        left join private.alert_preferences as a on a.user_id = p.id
        where p.role = 'admin' and p.status = 'active'
    ),
    notified as (
        insert into public.notifications (user_id, kind, title, body, data)
        select
            r.id, 'admin_alert', new.title, v_body,
            jsonb_build_object(
                'alert_id', new.id, 'rule', new.rule, 'severity', new.severity,
                'subject', new.subject, 'link', v_path
            )
        from recipients as r
    )
    insert into private.outbox (user_id, to_email, subject, body_text, kind)
    select
        r.id, r.email, 'VoxFlow alert: ' || new.title,
        format(
            E'%s\n\n%s\n\nOpen it in the admin console:\n\n%s\n\n%s\n', new.title, v_body, v_link,
            'You get this mail as a VoxFlow admin. Alert mail can be turned off in the '
            || 'console''s alert settings; the in-app notification stays.'
        ),
        'admin_alert'
    from recipients as r
    where r.email_enabled and r.email is not null;
    perform pg_notify('voxflow_outbox', '');
    return null;
end
$$;
revoke execute on function private.tg_alerts__notify_admins() from public;

create trigger after_insert_notify_admins
after insert on private.alerts
for each row execute function private.tg_alerts__notify_admins();

-- Every change of an admin's alert mail is audited, however it is made (no row was mail on).
-- security definer: the audit log is writable by no API role.
create function private.tg_alert_preferences__audit()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
    perform private.audit(
        'admin.alert_email_changed', 'user', new.user_id::text,
        jsonb_build_object(
            'email_enabled', case when tg_op = 'UPDATE' then old.email_enabled else true end
        ),
        jsonb_build_object('email_enabled', new.email_enabled)
    );
    return null;
end
$$;
revoke execute on function private.tg_alert_preferences__audit() from public;

create trigger after_change_audit
after insert or update on private.alert_preferences
for each row execute function private.tg_alert_preferences__audit();

-- ---------------------------------------------------------------------------------------------
-- Admin API (the view lives in sql/views/admin_alert_preferences.sql, the policies in
-- sql/policies/alert_preferences.sql)
-- ---------------------------------------------------------------------------------------------

-- Turn the caller's alert mail off or on (in-app notifications always arrive). Returns the
-- caller's preference. security invoker: the table's policies let an admin write only their
-- own row; its trigger audits the change.
create function admin.set_alert_email(enabled boolean)
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_row private.alert_preferences;
begin
    if not private.is_admin() then
        perform private.raise_error(
            403, 'not_admin', 'Only admins choose how alerts reach them', null,
            'Sign in with an admin account; the service role has no alert mail.'
        );
    end if;
    if enabled is null then
        perform private.raise_error(
            400, 'validation_failed', 'enabled must be true or false', 'enabled'
        );
    end if;
    insert into private.alert_preferences as a (user_id, email_enabled)
    values (auth.uid(), enabled)
    on conflict (user_id) do update set email_enabled = excluded.email_enabled, updated_at = now()
    returning a.* into v_row;
    return to_jsonb(v_row);
end
$$;
revoke execute on function admin.set_alert_email(boolean) from public;
grant execute on function admin.set_alert_email(boolean) to authenticated, service_role;

-- ---------------------------------------------------------------------------------------------
-- Grants (the policies decide whose rows)
-- ---------------------------------------------------------------------------------------------

alter table private.alert_preferences enable row level security;
grant select, insert (user_id, email_enabled), update (email_enabled, updated_at)
on private.alert_preferences to authenticated;
grant select on private.alert_preferences to service_role;
