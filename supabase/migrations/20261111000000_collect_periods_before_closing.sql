-- Purpose: private.run_billing_close() closed each period while a cursor over usage_events
--   was still open, and close_period() detaches the period's partition, which PostgreSQL
--   refuses while a query of the same session still reads the table. The periods are now
--   collected into an array first. The change was first made by editing 20261105000000 in
--   place; that file is back to its applied text and the change lives here.
-- Objects: private.run_billing_close() (body only).
-- Lock impact: none beyond replacing one function.
-- Rollback: restores the previous body.

create or replace function private.run_billing_close()
returns jsonb
language plpgsql
set search_path = ''
as $$
declare
    v_period date;
    v_results jsonb := '[]';
    v_res private.token_reservations;
begin
    -- Collected first: a partition cannot be detached while a cursor still reads the table.
    foreach v_period in array array(
        select distinct e.period_start from public.usage_events as e
        where e.period_start < private.period_of(now())
            and not exists (select 1 from private.closed_periods as cp
                            where cp.period_start = e.period_start)
        order by 1
    )
    loop
        v_results := v_results || private.close_period(v_period);
    end loop;
    perform private.ensure_usage_partition((private.period_of(now()) + i * interval '1 month')::date)
    from generate_series(0, 2) as i;
    for v_res in
        delete from private.token_reservations
        where created_at < now() - interval '15 minutes' returning *
    loop
        update public.usage_counters
        set tokens_reserved = greatest(tokens_reserved - v_res.tokens, 0)
        where user_id = v_res.user_id and period_start = v_res.period_start;
    end loop;
    delete from private.usage_idempotency where created_at < now() - interval '120 days';
    return jsonb_build_object('closed', v_results);
end
$$;
