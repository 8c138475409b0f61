-- Undoes 20261102000000_create_accounts: drops accounts, auth state, outbox, rate limits and
-- the audit log (their rows are lost), and restores default function privileges.
alter default privileges in schema public revoke all on functions from public;
alter default privileges in schema public grant execute on functions to public;
alter default privileges in schema private, admin grant execute on functions to public;
drop trigger if exists on_user_created_create_profile on auth.users;
drop trigger if exists on_user_changed_sync_profile on auth.users;
drop table if exists public.profiles cascade;
drop table if exists public.plans cascade;
drop schema if exists admin cascade;
drop schema if exists private cascade;
revoke all on auth.users from voxflow_sidecar;
revoke usage on schema public from anon, authenticated, service_role, voxflow_sidecar;
