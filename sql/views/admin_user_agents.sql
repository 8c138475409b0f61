-- admin.user_agents: every agent with its owner, for a user's detail page (?user_id=eq.<id>).
create or replace view admin.user_agents
with (security_invoker = true)
as
select
    a.user_id,
    a.id as agent_id,
    a.name,
    a.status,
    a.is_active,
    a.llm_model,
    a.stt_model,
    a.tts_voice,
    a.language,
    a.phone_number,
    a.created_at,
    a.updated_at
from public.agents as a;

comment on view admin.user_agents is 'Agents by owner (admins only).';
grant select on admin.user_agents to authenticated, service_role;
