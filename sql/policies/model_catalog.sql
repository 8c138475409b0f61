-- public.model_catalog: public reference data.
drop policy if exists "anyone reads the model catalog" on public.model_catalog;
create policy "anyone reads the model catalog" on public.model_catalog
for select to anon using (true);

drop policy if exists "users read the model catalog" on public.model_catalog;
create policy "users read the model catalog" on public.model_catalog
for select to authenticated using (true);
