-- Undoes 20261110000000_admin_totals_without_owner_arrays. The view that calls the function
-- goes with it (cascade); `voxflow db push` of the previous sql/ restores it.
drop function if exists private.platform_agent_counts() cascade;
