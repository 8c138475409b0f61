-- public.agents: owners do everything with their own agents; admins read all of them; the
-- sidecar reads agents to answer their phone calls (webhooks carry no user token).
-- Admins read every row under their own role, voxflow_admin (see
-- 20261113000000_add_admin_api_role).
alter table public.agents enable row level security;

drop policy if exists "owners read their agents" on public.agents;
create policy "owners read their agents" on public.agents
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists "admins read all agents" on public.agents;
create policy "admins read all agents" on public.agents
for select to voxflow_admin using (true);

drop policy if exists "owners create agents" on public.agents;
create policy "owners create agents" on public.agents
for insert to authenticated
with check (user_id = (select auth.uid()));

drop policy if exists "owners update their agents" on public.agents;
create policy "owners update their agents" on public.agents
for update to authenticated
using (user_id = (select auth.uid()))
with check (user_id = (select auth.uid()));

drop policy if exists "owners delete their agents" on public.agents;
create policy "owners delete their agents" on public.agents
for delete to authenticated
using (user_id = (select auth.uid()));

drop policy if exists "the sidecar reads agents" on public.agents;
create policy "the sidecar reads agents" on public.agents
for select to voxflow_sidecar using (true);
