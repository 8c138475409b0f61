-- Metering in SQL: prices by time, no zero-cost rows for consumed tokens, idempotency,
-- reservations, warnings once per period, closing a month twice.
begin;
select plan(18);

select tests.create_user('meter@test.local') as meter \gset
select date_trunc('month', now() at time zone 'UTC')::date as this_month \gset
-- An old month no other test closes (this file rolls back).
select '2024-03-01'::date as last_month \gset
select private.ensure_usage_partition(:'last_month');

-- A failed call that still consumed tokens is metered at full price.
select private.record_usage(jsonb_build_object(
    'user_id', :'meter', 'provider', 'groq', 'kind', 'llm', 'model', 'llama-3.3-70b-versatile',
    'input_tokens', 1000000, 'output_tokens', 1000000, 'success', false,
    'error_code', 'stream_cut', 'idempotency_key', 'm-1'
)) as first_event \gset
select is(
    (select cost_usd from public.usage_events where id = :first_event),
    1.38000000::numeric(14, 8),
    'a million input + output tokens of llama-3.3-70b cost $0.59 + $0.79, even when the call failed'
);
select ok(
    (select price_version is not null from public.usage_events where id = :first_event),
    'the event names the price rows it was charged at'
);
select is(
    private.record_usage(jsonb_build_object(
        'user_id', :'meter', 'provider', 'groq', 'kind', 'llm',
        'model', 'llama-3.3-70b-versatile', 'input_tokens', 5, 'idempotency_key', 'm-1'
    )),
    null, 'the same idempotency key is metered once'
);
select is(
    (select events from public.usage_counters where user_id = :'meter' and period_start = :'this_month'),
    1::bigint, 'the counters moved once'
);

-- Prices are taken from the book in force when the call happened.
update public.price_book set effective_to = now() - interval '1 hour'
where provider = 'deepgram' and model = 'nova-3' and effective_to is null;
insert into public.price_book (provider, model, unit, usd_per_unit, effective_from, source, taken_on)
values ('deepgram', 'nova-3', 'audio_second', 1, now() - interval '1 hour', 'test', current_date);
select private.record_usage(jsonb_build_object(
    'user_id', :'meter', 'provider', 'deepgram', 'kind', 'stt', 'model', 'nova-3',
    'audio_seconds', 60, 'idempotency_key', 'm-2', 'occurred_at', now() - interval '2 hours'
)) as old_price_event \gset
select private.record_usage(jsonb_build_object(
    'user_id', :'meter', 'provider', 'deepgram', 'kind', 'stt', 'model', 'nova-3',
    'audio_seconds', 60, 'idempotency_key', 'm-3'
)) as new_price_event \gset
select is(
    (select cost_usd from public.usage_events where id = :old_price_event),
    0.00430000::numeric(14, 8), 'a call two hours ago is charged the old price'
);
select is(
    (select cost_usd from public.usage_events where id = :new_price_event),
    60::numeric(14, 8), 'a call now is charged the new price'
);

-- A model without a price is recorded (nothing is lost) and stands out as a pricing gap.
select private.record_usage(jsonb_build_object(
    'user_id', :'meter', 'provider', 'groq', 'kind', 'llm', 'model', 'unpriced-model',
    'input_tokens', 10, 'idempotency_key', 'm-4'
)) as unpriced_event \gset
select is(
    (select price_version from public.usage_events where id = :unpriced_event),
    null, 'an unpriced model leaves price_version empty for the anomaly detector'
);

-- Reservations hold the quota; releasing gives it back.
update public.profiles set monthly_token_limit_override = 2000100 where id = :'meter';
select private.reserve_tokens(:'meter', 50) as hold \gset
select is(
    (select tokens_reserved from public.usage_counters where user_id = :'meter' and period_start = :'this_month'),
    50::bigint, 'a reservation holds tokens'
);
select throws_ok(
    format('select private.reserve_tokens(%L, 100)', :'meter'), 'PGRST', null,
    'a reservation beyond the limit is refused'
);
select private.release_reservation(:hold);
select is(
    (select tokens_reserved from public.usage_counters where user_id = :'meter' and period_start = :'this_month'),
    0::bigint, 'releasing gives the tokens back'
);

-- Warnings: 80, 95 and 100 % each once per period, even when crossed again.
select tests.create_user('warn@test.local') as warn \gset
select private.record_usage(jsonb_build_object(
    'user_id', :'warn', 'provider', 'groq', 'kind', 'llm', 'model', 'llama-3.1-8b-instant',
    'input_tokens', 810, 'idempotency_key', 'w-1'
));
select private.record_usage(jsonb_build_object(
    'user_id', :'warn', 'provider', 'groq', 'kind', 'llm', 'model', 'llama-3.1-8b-instant',
    'input_tokens', 10, 'idempotency_key', 'w-2'
));
select private.record_usage(jsonb_build_object(
    'user_id', :'warn', 'provider', 'groq', 'kind', 'llm', 'model', 'llama-3.1-8b-instant',
    'input_tokens', 140, 'idempotency_key', 'w-3'
));
select is(
    (select array_agg(threshold order by threshold) from public.quota_warnings where user_id = :'warn'),
    array[80, 95]::integer [], '810 then 960 of 1,000 tokens: the 80 and 95 % warnings, once each'
);
select private.send_quota_warnings(:'warn', :'this_month');
select is(
    (select count(*) from public.notifications where user_id = :'warn' and kind = 'quota_warning'),
    2::bigint, 'checking again sends nothing new'
);

-- Closing a month twice: the second run changes nothing.
select private.record_usage(jsonb_build_object(
    'user_id', :'meter', 'provider', 'groq', 'kind', 'llm', 'model', 'llama-3.1-8b-instant',
    'input_tokens', 100, 'idempotency_key', 'm-5', 'occurred_at', :'last_month'::date + 1
));
select ok((private.close_period(:'last_month') ->> 'closed')::boolean, 'the month closes');
select ok(not (private.close_period(:'last_month') ->> 'closed')::boolean, 'closing it again changes nothing');

-- Prices: an admin's change ends the old price; bad keys are clear 400s, not constraint text.
select tests.create_user('prices@test.local', 'admin') as price_admin \gset
select tests.authenticate_as(:'price_admin');
select admin.set_price('groq', 'test-model', 'input_token', 0.5) as first_price \gset
select is(
    admin.set_price('groq', 'test-model', 'input_token', 0.5), :first_price::bigint,
    'setting the same price again changes nothing'
);
reset role;
select throws_like(
    $$select admin.set_price('groq', 'test-model', 'input_token', 0.7)$$,
    '%invalid_price_key%',
    'a key changes once per transaction (the new price would start when the old one ends)'
);
select tests.authenticate_as(:'price_admin');
select throws_like(
    $$select admin.set_price('openai', 'gpt', 'input_token', 1)$$,
    '%invalid_price_key%No price can be set for openai/gpt per input_token%',
    'an unknown provider is a 400 that names the key'
);
select throws_like(
    $$select admin.set_price('groq', '', 'parsec', 1)$$,
    '%A price needs a model%',
    'a price needs a model'
);
reset role;

select * from finish();
rollback;
