-- Purpose: functions in our schemas are executable only by the roles they are granted to.
--   Postgres grants EXECUTE to PUBLIC on every new function and a per-schema default cannot
--   take that away (the accounts migration tried), so revoke it from every function in our
--   schemas. Later migrations revoke it next to each new function; the catalog test
--   (tests/sql/04_catalog_test.sql) fails if a security-definer function is left callable.
--   The global default is left alone so extensions keep working on hosted Supabase.
-- Objects: EXECUTE on functions in public, private, admin.
-- Lock impact: catalog only.
-- Rollback: grants EXECUTE back to PUBLIC.

revoke execute on all functions in schema public, private, admin from public;
