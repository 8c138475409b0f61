-- Undoes 20261104000000_allow_ownerless_service_writes: the validate trigger runs with the
-- caller's rights again (service_role inserts without an owner fail once more).
alter function private.tg_agents__validate() security invoker;
