-- admin.system_health: requests, error rates and latency percentiles per gateway route
-- (source route, from nginx's access log) and per provider/kind (source provider, from
-- metered calls): per minute for 24 hours and per hour for 30 days
-- (?granularity=eq.minute&source=eq.route&order=bucket_start.desc). Percentiles come from
-- fixed-bucket histograms (private.latency_bounds_ms), interpolated within a bucket.
create or replace view admin.system_health
with (security_invoker = true)
as
select
    h.granularity,
    h.bucket_start,
    h.source,
    h.name,
    h.requests,
    h.client_errors,
    h.server_errors,
    round(h.client_errors::numeric / nullif(h.requests, 0), 4) as client_error_rate,
    round(h.server_errors::numeric / nullif(h.requests, 0), 4) as server_error_rate,
    h.p50_ms,
    h.p95_ms,
    h.p99_ms
from private.health_rollups as h
where
    (h.granularity = 'minute' and h.bucket_start >= now() - interval '24 hours')
    or (h.granularity = 'hour' and h.bucket_start >= now() - interval '30 days');

comment on view admin.system_health is 'Traffic, errors and latency per route and provider (admins only).';
comment on column admin.system_health.server_errors is 'HTTP 5xx; for providers, failed calls.';
grant select on admin.system_health to authenticated, service_role;
