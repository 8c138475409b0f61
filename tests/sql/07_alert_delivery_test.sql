-- Alerts that reach the admins (issue 14): each alert the detector raises becomes, once, a
-- notification for every active admin and a mail for those whose alert mail is on; plain users
-- and suspended admins get nothing. Each admin chooses their own alert mail (the policies
-- allow only their own row; every change audited), and admins read the audit chain's
-- verification. Crafted data lives in July 2025 so no other test's rows mix in.
begin;
select plan(29);

select tests.create_user('ada@alerts.test', 'admin') as ada \gset
select tests.create_user('max@alerts.test', 'admin') as max \gset
select tests.create_user('sid@alerts.test', 'admin') as sid \gset
select tests.create_user('ulla@alerts.test') as ulla \gset
update public.profiles set status = 'suspended' where id = :'sid';

-- ---------------------------------------------------------------------------------------------
-- Alert mail preferences
-- ---------------------------------------------------------------------------------------------

select tests.authenticate_as(:'max');
select is(
    admin.set_alert_email(false) ->> 'email_enabled', 'false', 'an admin turns their alert mail off'
);
select is(
    admin.set_alert_email(true) ->> 'email_enabled', 'true', 'and on again'
);
select is(
    (admin.set_alert_email(false) ->> 'user_id')::uuid, :'max'::uuid,
    'the choice is the caller''s own'
);
select throws_ok(
    'select admin.set_alert_email(null)', 'PGRST', null, 'enabled must be true or false'
);

select tests.authenticate_as(:'ada');
select results_eq(
    format(
        $$select user_id, email_enabled from admin.alert_preferences
          where user_id in (%L, %L, %L) order by email$$, :'ada', :'max', :'sid'
    ),
    format($$values (%L::uuid, true), (%L::uuid, false)$$, :'ada', :'max'),
    'admins read every active admin''s choice; mail is on until turned off'
);
select is(
    tests.affected(format(
        'update private.alert_preferences set email_enabled = true where user_id = %L', :'max'
    )),
    0::bigint,
    'an admin cannot change another admin''s choice'
);
select throws_ok(
    format(
        $$insert into private.alert_preferences (user_id, email_enabled) values (%L, false)$$,
        :'sid'
    ),
    '42501', null, 'nor make one for another admin'
);

select tests.authenticate_as(:'ulla');
select throws_ok(
    'select admin.set_alert_email(false)', 'PGRST', null, 'a user cannot choose alert mail'
);
select throws_ok(
    format(
        $$insert into private.alert_preferences (user_id, email_enabled) values (%L, false)$$,
        :'ulla'
    ),
    '42501', null, 'not even by writing the table'
);
select is_empty('select * from private.alert_preferences', 'a user reads no admin''s choice');
select is_empty('select * from admin.alert_preferences', 'through the view neither');

select tests.authenticate_with_role(:'ada', 'authenticated');
select throws_ok(
    'select admin.set_alert_email(false)', 'PGRST', null,
    'an admin holding a user''s token cannot choose either'
);

reset role;
select results_eq(
    format(
        $$select actor_id, before, after from private.audit_log
          where action = 'admin.alert_email_changed' and target_id = %L order by id$$, :'max'
    ),
    format(
        $$values
            (%1$L::uuid, '{"email_enabled": true}'::jsonb, '{"email_enabled": false}'::jsonb),
            (%1$L, '{"email_enabled": false}', '{"email_enabled": true}'),
            (%1$L, '{"email_enabled": true}', '{"email_enabled": false}')$$,
        :'max'
    ),
    'each change is audited once with its before and after'
);

-- ---------------------------------------------------------------------------------------------
-- Delivery of a new alert
-- ---------------------------------------------------------------------------------------------

select private.record_site_url('https://console.example.test/');
insert into private.audit_log (occurred_at, action, target_type, target_id, ip)
select '2025-07-07 09:00+00'::timestamptz + i * interval '10 seconds', 'login.failed', 'email',
    'victim@alerts.test', '192.0.2.77'
from generate_series(1, 25) as i;

create temp table raised as
select * from private.detect_anomalies('2025-07-07 09:07+00', false);
select results_eq(
    'select rule, subject from raised', $$values ('failed_login_burst', '192.0.2.77')$$,
    'the burst raises one alert'
);
select id as alert_id from raised \gset

create temp view told as
select n.user_id, n.kind, n.title, n.data from public.notifications as n
where n.kind = 'admin_alert' and n.data ->> 'alert_id' = :'alert_id';
create temp view mailed as
select o.user_id, o.to_email, o.subject, o.body_text from private.outbox as o
where o.kind = 'admin_alert'
    and o.body_text like '%/admin/alerts?alert=' || :'alert_id' || E'\n%';
create temp view active_admins as
select p.id from public.profiles as p where p.role = 'admin' and p.status = 'active';

select set_eq(
    'select user_id from told', 'select id from active_admins',
    'every active admin is notified in the app'
);
select is(
    (select count(*) from told), (select count(*) from active_admins),
    'once each'
);
select ok(
    (select count(*) from told where user_id in (:'ada', :'max')) = 2,
    'an admin with alert mail off is notified in the app too'
);
select is_empty(
    format($$select * from told where user_id in (%L, %L)$$, :'ulla', :'sid'),
    'neither a user nor a suspended admin is notified'
);
select is(
    (select data from told where user_id = :'ada'),
    jsonb_build_object(
        'alert_id', :alert_id, 'rule', 'failed_login_burst', 'severity', 'warning',
        'subject', '192.0.2.77', 'link', '/admin/alerts?alert=' || :alert_id
    ),
    'the notification names the alert and the console page'
);
select set_eq(
    'select user_id from mailed',
    $$select id from active_admins
      except select user_id from private.alert_preferences where not email_enabled$$,
    'every active admin whose alert mail is on is mailed, once each'
);
select ok(
    (select count(*) = count(distinct user_id) from mailed), 'one mail per admin'
);
select is_empty(
    format($$select * from mailed where user_id in (%L, %L, %L)$$, :'max', :'ulla', :'sid'),
    'no mail to the admin who turned it off, a user, or a suspended admin'
);
select ok(
    (select body_text like '%https://console.example.test/admin/alerts?alert=' || :'alert_id' || '%'
        and subject = 'VoxFlow alert: ' || (select title from raised)
        and to_email = 'ada@alerts.test'
     from mailed where user_id = :'ada'),
    'the mail links to the alert''s page in the console at the recorded site URL'
);

select (select count(*) from told) + (select count(*) from mailed) as told_and_mailed \gset
select is_empty(
    $$select * from private.detect_anomalies('2025-07-07 09:07+00', false)$$,
    'the detector does not raise the alert again'
);
select is(
    (select count(*) from told) + (select count(*) from mailed), :told_and_mailed::bigint,
    'so nobody is told twice'
);

-- ---------------------------------------------------------------------------------------------
-- The audit chain's verification, for admins
-- ---------------------------------------------------------------------------------------------

select tests.authenticate_as(:'ada');
select ok(
    (select (r ->> 'ok')::boolean and (r ->> 'checked')::bigint > 0 and r ? 'verified_at'
        and r -> 'first_bad_id' = 'null' from admin.verify_audit_chain() as r),
    'an admin reads that the audit chain verifies'
);

reset role;
select private.audit('pgtap.tamper', 'user', null, null, '{"plan_id": "free"}', null) as tampered \gset
savepoint tamper;
set local session_replication_role = replica;
update private.audit_log set after = '{"plan_id": "business"}' where id = :tampered;
set local session_replication_role = origin;
select tests.authenticate_as(:'ada');
select results_eq(
    $$select r ->> 'ok', (r ->> 'first_bad_id')::bigint, r ->> 'problem'
      from admin.verify_audit_chain() as r$$,
    format($$values ('false', %s::bigint, 'entry content was changed')$$, :tampered),
    'an admin reads the first bad entry of a tampered chain'
);
reset role;
rollback to savepoint tamper;

select tests.authenticate_as(:'ulla');
select throws_ok(
    'select admin.verify_audit_chain()', 'PGRST', null, 'a user cannot verify the audit chain'
);
select tests.authenticate_as_anon();
select throws_ok(
    'select admin.verify_audit_chain()', '42501', null, 'nor can a visitor'
);

select * from finish();
rollback;
