-- Purpose: two costs the benchmark found. (1) Policies written `user_id = (select auth.uid())
--   or (select private.is_admin())` cannot use the user_id index: the OR with a run-time value
--   forces a scan of the whole table (pgbench: 0.25 of the RLS-free throughput). Policies now
--   say `user_id = any ((select private.visible_user_ids()))`: one array, computed once per
--   statement — the caller alone, or everyone for an admin — which the index serves
--   (public.profiles keeps the OR form: see sql/policies/profiles.sql).
--   (2) Deleting an agent set usage_events.agent_id to null through a scan of every event;
--   the column is now indexed.
-- Objects: private.visible_user_ids(); index usage_events_agent_id_idx (on every partition).
-- Lock impact: building the index blocks writes to usage_events while it runs (seconds per
--   million events); take a quiet moment on a large ledger.
-- Rollback: drops the index and the function (sql/policies of the previous version must be
--   pushed again).

-- Whose rows the caller may read: themselves, or everyone for an active admin.
-- security definer: an admin's list is every profile, which the caller's RLS would filter.
create function private.visible_user_ids()
returns uuid []
language sql
stable
security definer
set search_path = ''
as $$
    select case
        when private.is_admin() then array(select p.id from public.profiles as p)
        else array[auth.uid()]
    end
$$;
revoke execute on function private.visible_user_ids() from public;
grant execute on function private.visible_user_ids() to authenticated;

create index usage_events_agent_id_idx on public.usage_events (agent_id);
