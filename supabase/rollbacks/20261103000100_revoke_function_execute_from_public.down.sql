-- Undoes 20261103000100_revoke_function_execute_from_public.
grant execute on all functions in schema public, private, admin to public;
