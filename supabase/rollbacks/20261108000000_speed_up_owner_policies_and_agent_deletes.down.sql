-- Undoes 20261108000000_speed_up_owner_policies_and_agent_deletes. The policies that call
-- the function go with it (cascade); `voxflow db push` of the previous sql/ restores them.
drop index if exists public.usage_events_agent_id_idx;
drop function if exists private.visible_user_ids() cascade;
