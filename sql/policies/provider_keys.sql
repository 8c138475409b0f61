-- private.provider_keys (not exposed): owners see their own rows' non-secret columns through
-- public.api_keys; the sidecar encrypts, decrypts and rotates.
drop policy if exists "owners read their key metadata" on private.provider_keys;
create policy "owners read their key metadata" on private.provider_keys
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists "the sidecar manages keys" on private.provider_keys;
create policy "the sidecar manages keys" on private.provider_keys
for all to voxflow_sidecar using (true) with check (true);
