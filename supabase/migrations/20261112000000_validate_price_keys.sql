-- Purpose: admin.set_price with an unknown provider or unit, or no model, failed with the
--   table's raw constraint error; it now answers 400 invalid_price_key with the allowed
--   values. A unique index keeps one open price per provider, model and unit, so two
--   concurrent first prices for a key cannot both stay open.
-- Objects: private.set_price (body); index price_book_open_key_idx.
-- Lock impact: building the index briefly blocks writes to price_book (a few hundred rows).
-- Rollback: restores the previous body and drops the index.

create or replace function private.set_price(
    p_provider text, p_model text, p_unit text, p_usd_per_unit numeric, p_source text,
    p_actor_id uuid default auth.uid()
)
returns bigint
language plpgsql
security definer
set search_path = ''
as $$
declare
    v_old public.price_book;
    v_id bigint;
begin
    if auth.role() = 'authenticated' then
        perform private.assert_admin();
    end if;
    if p_usd_per_unit is null or p_usd_per_unit < 0 then
        perform private.raise_error(400, 'invalid_price', 'A price is a number of USD, at least 0');
    end if;
    if coalesce(p_model, '') = '' then
        perform private.raise_error(
            400, 'invalid_price_key', 'A price needs a model', null,
            'Name the model, or * for the provider''s default price.'
        );
    end if;
    select * into v_old from public.price_book
    where provider = p_provider and model = p_model and unit = p_unit and effective_to is null
    for update;
    if found and v_old.usd_per_unit = p_usd_per_unit then
        return v_old.id;
    end if;
    begin
        update public.price_book set effective_to = now() where id = v_old.id;
        insert into public.price_book (
            provider, model, unit, usd_per_unit, effective_from, source, taken_on
        )
        values (p_provider, p_model, p_unit, p_usd_per_unit, now(), p_source, current_date)
        returning id into v_id;
    exception when check_violation or not_null_violation or unique_violation then
        -- The table's constraints name the providers and units; say it in words.
        perform private.raise_error(
            400, 'invalid_price_key',
            format('No price can be set for %s/%s per %s', p_provider, p_model, p_unit), null,
            'Providers are groq, deepgram and twilio; units input_token, output_token, '
            || 'audio_second, character and minute. A key changes once per transaction.'
        );
    end;
    perform private.audit(
        'price.changed', 'price', format('%s/%s/%s', p_provider, p_model, p_unit),
        case when v_old.id is null then null
            else jsonb_build_object('usd_per_unit', v_old.usd_per_unit) end,
        jsonb_build_object('usd_per_unit', p_usd_per_unit, 'source', p_source),
        p_actor_id
    );
    return v_id;
end
$$;

create unique index price_book_open_key_idx on public.price_book (provider, model, unit)
where effective_to is null;
