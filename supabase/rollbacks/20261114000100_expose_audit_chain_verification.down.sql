-- Undoes 20261114000100_expose_audit_chain_verification: the chain is verified with
-- `voxflow audit verify` only.
drop function if exists admin.verify_audit_chain();
drop function if exists private.admin_verify_audit_chain();
