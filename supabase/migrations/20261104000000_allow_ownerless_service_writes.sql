-- Purpose: v0 clients keep writing agents with the service key and no owner after
--   `voxflow db upgrade-legacy`: such rows go to the legacy owner. The validate trigger reads
--   that owner from private.platform_settings, which only the sidecar may read, so an insert by
--   service_role failed with "permission denied for table platform_settings". The trigger now
--   runs with its owner's rights; its body is unchanged.
-- Objects: private.tg_agents__validate() (now security definer).
-- Lock impact: catalog only; no table is read or rewritten.
-- Rollback: makes the trigger function security invoker again.

-- security definer: service_role writes without an owner read the legacy owner, a
-- server-only setting no API role may select.
alter function private.tg_agents__validate() security definer;
