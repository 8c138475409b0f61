-- Undoes 20261105000200_add_price_admin.
drop function if exists admin.set_price(text, text, text, numeric);
drop function if exists private.set_price(text, text, text, numeric, text, uuid);
