-- A realistic single-admin VoxFlow v0 data set: agents with long, non-ASCII prompts, calls with
-- transcripts, and the plaintext provider settings v0 kept. Idempotent: fixed ids, and existing
-- rows are left alone. The keys are obviously fake placeholders.

insert into public.agents (
    id, name, description, system_prompt, first_message, llm_model, temperature, max_tokens,
    stt_model, tts_voice, language, phone_number, config, is_active, created_at, updated_at
)
values
(
    1, 'Front desk', 'Answers the main line and routes callers',
    'You are the front desk of Harbour Dental. Greet callers warmly, find out whether they '
    || 'want to book, move or cancel an appointment, and collect their name, date of birth and '
    || 'preferred times. Never give medical advice; offer to book a consultation instead. '
    || repeat('Keep answers under two sentences because callers are on the phone. ', 40),
    'Hello, Harbour Dental, how can I help you today?', 'llama-3.3-70b-versatile', 0.6, 300,
    'nova-3', 'aura-2-thalia-en', 'en', '+14155550101',
    '{"business_hours": {"mon-fri": "08:00-18:00"}, "transfer_to": "+14155550199",
      "tags": ["dental", "booking"]}',
    true, '2025-03-02 09:15:00+00', '2025-06-10 16:40:00+00'
),
(
    2, 'Réception — Cabinet Dupré', 'Accueil téléphonique en français',
    'Tu es l''assistante du cabinet d''avocats Dupré & Associés. Réponds en français, avec '
    || 'courtoisie. Prends le nom, le numéro et l''objet de l''appel. « Ne donne jamais de '
    || 'conseil juridique » — propose un rendez-vous. Ça, c''est très important.',
    'Cabinet Dupré, bonjour ! Que puis-je pour vous ?', 'llama-3.3-70b-versatile', 0.5, 256,
    'nova-3', 'aura-2-agathe-fr', 'fr', '+33155550102',
    '{"voicemail": true, "languages": ["fr", "en"]}',
    true, '2025-03-05 11:00:00+00', '2025-03-05 11:00:00+00'
),
(
    3, 'Order status bot', null,
    'Look up order status for callers of Nordlicht Versand. Antworte auf Deutsch, wenn der '
    || 'Anrufer Deutsch spricht. Bestellnummern haben das Format NL-12345. 注文番号を確認する。',
    null, 'llama-3.1-8b-instant', 0.2, 128, 'nova-3', 'aura-2-thalia-en', 'de', null,
    '{}', true, '2025-04-01 08:00:00+00', '2025-04-01 08:00:00+00'
),
(
    4, 'After-hours line', 'Takes messages outside business hours',
    'Take a message: name, callback number, reason. Read it back. Emoji in notes are fine 👍.',
    'Thanks for calling after hours. I can take a message.', 'llama-3.1-8b-instant', 1.0, 200,
    'nova-2', 'aura-2-orion-en', 'en', '+14155550104',
    '{"escalation": {"keywords": ["urgent", "emergency"], "notify": {"sms": "+14155550199"}}}',
    false, '2025-05-20 22:00:00+00', '2025-07-01 07:30:00+00'
),
(
    5, 'Survey caller', 'Outbound satisfaction survey',
    '', 'Hi! Do you have two minutes for a short survey?', 'llama-3.3-70b-versatile', 0.9, 64,
    'nova-3', 'aura-2-thalia-en', 'en', '+14155550105', '{"questions": []}',
    true, '2025-06-01 10:00:00+00', '2025-06-01 10:00:00+00'
)
on conflict (id) do nothing;

select setval('public.agents_id_seq', greatest((select max(id) from public.agents), 1));

insert into public.calls (
    id, agent_id, twilio_call_sid, direction, from_number, to_number, status, started_at,
    ended_at, duration_seconds, transcript, created_at
)
values
(
    1, 1, 'CAseed0000000000000000000000000001', 'inbound', '+14155559001', '+14155550101',
    'completed', '2025-06-10 16:00:00+00', '2025-06-10 16:03:12+00', 192,
    '[{"role": "assistant", "text": "Hello, Harbour Dental, how can I help you today?"},
      {"role": "user", "text": "I need to move my cleaning to Friday."},
      {"role": "assistant", "text": "Of course. Morning or afternoon?"}]',
    '2025-06-10 16:00:00+00'
),
(
    2, 2, 'CAseed0000000000000000000000000002', 'inbound', '+33655559002', '+33155550102',
    'completed', '2025-06-11 09:00:00+00', '2025-06-11 09:01:30+00', 90,
    '[{"role": "assistant", "text": "Cabinet Dupré, bonjour !"},
      {"role": "user", "text": "Je voudrais un rendez-vous, s''il vous plaît."}]',
    '2025-06-11 09:00:00+00'
),
(
    3, 5, 'CAseed0000000000000000000000000003', 'outbound', '+14155550105', '+14155559003',
    'no-answer', '2025-06-12 10:00:00+00', null, null, '[]', '2025-06-12 10:00:00+00'
),
(
    4, 1, null, 'inbound', null, '+14155550101', 'queued', null, null, null, '[]',
    '2025-06-13 12:00:00+00'
)
on conflict (id) do nothing;

select setval('public.calls_id_seq', greatest((select max(id) from public.calls), 1));

insert into public.settings (key, value, updated_at)
values
('GROQ_API_KEY', 'gsk_demo_not_a_real_key_0001', '2025-03-01 00:00:00+00'),
('DEEPGRAM_API_KEY', 'dg_demo_not_a_real_key_0002', '2025-03-01 00:00:00+00'),
('TWILIO_ACCOUNT_SID', 'ACdemo00000000000000000000000000', '2025-03-01 00:00:00+00'),
('TWILIO_AUTH_TOKEN', 'demo_twilio_auth_token_0003', '2025-03-01 00:00:00+00'),
('TWILIO_PHONE_NUMBER', '+14155550100', '2025-03-01 00:00:00+00'),
('COMPANY_NAME', 'Harbour Dental Group', '2025-03-01 00:00:00+00'),
('DEFAULT_LANGUAGE', 'en', '2025-03-01 00:00:00+00')
on conflict (key) do nothing;
