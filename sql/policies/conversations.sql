-- Conversations and their messages: owners read theirs, admins read all; the sidecar keeps
-- them (chat requests and phone calls).
-- Admins read every row under their own role, voxflow_admin (see
-- 20261113000000_add_admin_api_role).
drop policy if exists "owners read their conversations" on public.conversations;
create policy "owners read their conversations" on public.conversations
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists "admins read all conversations" on public.conversations;
create policy "admins read all conversations" on public.conversations
for select to voxflow_admin using (true);

drop policy if exists "the sidecar reads conversations" on public.conversations;
create policy "the sidecar reads conversations" on public.conversations
for select to voxflow_sidecar using (true);

drop policy if exists "the sidecar starts conversations" on public.conversations;
create policy "the sidecar starts conversations" on public.conversations
for insert to voxflow_sidecar with check (true);

drop policy if exists "owners read their messages" on public.conversation_messages;
create policy "owners read their messages" on public.conversation_messages
for select to authenticated
using (user_id = (select auth.uid()));

drop policy if exists "admins read all messages" on public.conversation_messages;
create policy "admins read all messages" on public.conversation_messages
for select to voxflow_admin using (true);

drop policy if exists "the sidecar reads messages" on public.conversation_messages;
create policy "the sidecar reads messages" on public.conversation_messages
for select to voxflow_sidecar using (true);

drop policy if exists "the sidecar records messages" on public.conversation_messages;
create policy "the sidecar records messages" on public.conversation_messages
for insert to voxflow_sidecar with check (true);

drop policy if exists "the sidecar counts down turns" on public.conversations;
create policy "the sidecar counts down turns" on public.conversations
for update to voxflow_sidecar using (true) with check (true);
