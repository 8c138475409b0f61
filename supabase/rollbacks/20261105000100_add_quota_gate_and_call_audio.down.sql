-- Undoes 20261105000100_add_quota_gate_and_call_audio.
drop function if exists private.rate_limit_count(text, integer);
drop function if exists private.assert_quota(uuid);
drop table if exists private.call_audio;
alter table public.conversations drop column if exists turn_budget;
