-- Undoes 20261112000000_validate_price_keys.
drop index if exists public.price_book_open_key_idx;

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
    select * into v_old from public.price_book
    where provider = p_provider and model = p_model and unit = p_unit and effective_to is null
    for update;
    if found and v_old.usd_per_unit = p_usd_per_unit then
        return v_old.id;
    end if;
    update public.price_book set effective_to = now() where id = v_old.id;
    insert into public.price_book (
        provider, model, unit, usd_per_unit, effective_from, source, taken_on
    )
    values (p_provider, p_model, p_unit, p_usd_per_unit, now(), p_source, current_date)
    returning id into v_id;
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
