-- public.api_keys: which provider keys the caller has set, never the keys themselves.
create or replace view public.api_keys
with (security_invoker = true)
as
select
    pr.provider,
    k.user_id is not null as configured,
    k.hint,
    k.updated_at,
    k.last_used_at,
    pr.fields,
    '/functions/v1/api-keys/' || pr.provider as set_with
from (
    values
    ('groq', array['api_key']),
    ('deepgram', array['api_key']),
    ('twilio', array['account_sid', 'auth_token', 'phone_number'])
) as pr (provider, fields)
left join private.provider_keys as k
    on pr.provider = k.provider and k.user_id = (select auth.uid());

comment on view public.api_keys is 'One row per provider: configured or not, a hint, and where to set it.';
grant select on public.api_keys to authenticated;
