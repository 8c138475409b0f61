-- Undoes 20261101000000_create_legacy_baseline: drops the v0 tables and their data.
drop table if exists public.calls;
drop table if exists public.agents;
drop table if exists public.settings;
