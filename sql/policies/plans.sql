-- public.plans: the plan catalogue is public (the pricing page reads it without signing in).
drop policy if exists "anyone reads plans" on public.plans;
create policy "anyone reads plans" on public.plans
for select to anon using (true);

drop policy if exists "users read plans" on public.plans;
create policy "users read plans" on public.plans
for select to authenticated using (true);

drop policy if exists "the sidecar reads plans" on public.plans;
create policy "the sidecar reads plans" on public.plans
for select to voxflow_sidecar using (true);
