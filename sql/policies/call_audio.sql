-- private.call_audio (not exposed): only the sidecar stores and serves agent speech.
drop policy if exists "the sidecar keeps call audio" on private.call_audio;
create policy "the sidecar keeps call audio" on private.call_audio
for all to voxflow_sidecar using (true) with check (true);
