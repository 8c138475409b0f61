-- Catalog checks that keep the security rules true as the schema grows.
begin;
select plan(10);

select is_empty(
    $$select n.nspname || '.' || c.relname from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('public', 'admin') and c.relkind in ('r', 'p') and not c.relrowsecurity$$,
    'every table in an exposed schema has RLS enabled'
);

select is_empty(
    $$select n.nspname || '.' || p.proname from pg_proc p
      join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('public', 'admin') and p.prosecdef$$,
    'no security-definer function lives in an exposed schema'
);

select is_empty(
    $$select p.oid::regprocedure::text from pg_proc p
      join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('public', 'private', 'admin') and p.prosecdef
        and not coalesce(p.proconfig @> array['search_path=""'], false)$$,
    'every security-definer function pins search_path to empty'
);

-- The security-definer functions API roles may call, each on purpose.
select is_empty(
    $$select p.oid::regprocedure::text from pg_proc p
      join pg_namespace n on n.oid = p.pronamespace
      where n.nspname = 'private' and p.prosecdef
        and (has_function_privilege('anon', p.oid, 'execute')
             or has_function_privilege('authenticated', p.oid, 'execute')
             or has_function_privilege('voxflow_admin', p.oid, 'execute'))
        and p.proname not in (
            'is_admin', 'check_request', 'effective_limits', 'admin_set_user_status',
            'admin_set_user_role', 'change_plan_for_caller', 'set_active_agents_for_caller',
            'admin_change_plan', 'admin_set_limits', 'admin_delete_user', 'set_price',
            'admin_set_alert_status', 'admin_verify_audit_chain'
        )$$,
    'no other security-definer function is executable by anon or authenticated'
);

select is_empty(
    $$select n.nspname || '.' || c.relname from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      where n.nspname in ('public', 'admin') and c.relkind = 'v'
        and not coalesce(c.reloptions @> array['security_invoker=true'], false)$$,
    'every view is security_invoker'
);

select is_empty(
    $$select table_schema || '.' || table_name || ':' || privilege_type
      from information_schema.role_table_grants
      where grantee = 'anon' and table_schema not in ('pg_catalog', 'information_schema')
        and not (table_schema = 'public' and table_name in ('plans', 'model_catalog')
                 and privilege_type = 'SELECT')$$,
    'anon has no table grants beyond reading the public catalogues'
);

select is_empty(
    $$select schemaname || '.' || tablename || ': ' || policyname from pg_policies
      where 'public' = any(roles) and schemaname in ('public', 'private', 'admin')$$,
    'no policy applies to PUBLIC: each names its role'
);

select is_empty(
    $$select schemaname || '.' || tablename || ': ' || policyname from pg_policies
      where schemaname in ('public', 'private', 'admin') and concat(qual, ' ', with_check) ~ 'auth\.uid\(\)'
        and concat(qual, ' ', with_check) !~ 'SELECT auth\.uid\(\)'$$,
    'policies call auth.uid() through (select ...) so it runs once per statement'
);

-- Every user_id column (what the policies filter on) leads some index.
select is_empty(
    $$select n.nspname || '.' || c.relname from pg_attribute a
      join pg_class c on c.oid = a.attrelid
      join pg_namespace n on n.oid = c.relnamespace
      where a.attname = 'user_id' and c.relkind = 'r' and not a.attisdropped
        and n.nspname in ('public', 'private')
        and not exists (
            select 1 from pg_index i where i.indrelid = c.oid and i.indkey[0] = a.attnum
        )$$,
    'every user_id column is the leading column of an index'
);

-- The admins' role may do what a user may (it is a member of authenticated) and read more
-- through its own select policies; it holds no grant of its own.
select is_empty(
    $$select table_schema || '.' || table_name || ' ' || privilege_type
      from information_schema.role_table_grants where grantee = 'voxflow_admin'
      union all
      select routine_schema || '.' || routine_name from information_schema.role_routine_grants
      where grantee = 'voxflow_admin'$$,
    'the admin role has no grants of its own, only those of authenticated'
);

select * from finish();
rollback;
