-- Purpose: prices change over time. Admins set a price (the old one ends, the new one starts
--   now, so past events keep the price they were charged at), and `voxflow prices import`
--   loads a whole set through the same function. Every change is audited.
-- Objects: private.set_price, admin.set_price.
-- Lock impact: none (functions only).
-- Rollback: drops both functions; price rows already written stay.

-- security definer: price_book is read-only for every API role.
create function private.set_price(
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
revoke execute on function private.set_price(text, text, text, numeric, text, uuid) from public;
grant execute on function private.set_price(text, text, text, numeric, text, uuid)
to authenticated, service_role;

create function admin.set_price(provider text, model text, unit text, usd_per_unit numeric)
returns bigint
language sql
set search_path = ''
as $$ select private.set_price(provider, model, unit, usd_per_unit, 'admin') $$;
revoke execute on function admin.set_price(text, text, text, numeric) from public;
grant execute on function admin.set_price(text, text, text, numeric) to authenticated,
service_role;
