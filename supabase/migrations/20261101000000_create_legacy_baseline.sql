-- Purpose: the single-admin VoxFlow v0 schema, reproduced exactly, so a real v0 database can be
--   adopted (`voxflow db adopt` records this version as applied when these tables exist) and
--   then upgraded by the later migrations.
-- Objects: public.agents, public.calls, public.settings (and their sequences and indexes).
-- Lock impact: creates new tables only.
-- Rollback: drops the three tables and everything in them; rolling back to zero is for empty or
--   disposable databases only.

create table public.agents (
    id bigserial primary key,
    name text not null,
    description text,
    system_prompt text not null default '',
    first_message text,
    llm_model text not null default 'llama-3.3-70b-versatile',
    temperature real not null default 0.7,
    max_tokens integer not null default 256,
    stt_model text not null default 'nova-3',
    tts_voice text not null default 'aura-2-thalia-en',
    language text not null default 'en',
    phone_number text unique,
    config jsonb not null default '{}',
    is_active boolean not null default true,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now()
);

create table public.calls (
    id bigserial primary key,
    agent_id bigint not null references public.agents (id) on delete cascade,
    twilio_call_sid text unique,
    direction text not null check (direction in ('inbound', 'outbound')),
    from_number text,
    to_number text,
    status text not null default 'queued',
    started_at timestamptz,
    ended_at timestamptz,
    duration_seconds integer,
    transcript jsonb not null default '[]',
    created_at timestamptz not null default now()
);

-- v0 kept provider credentials here, in plaintext: GROQ_API_KEY, DEEPGRAM_API_KEY,
-- TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_PHONE_NUMBER.
create table public.settings (
    key text primary key,
    value text not null,
    updated_at timestamptz not null default now()
);
