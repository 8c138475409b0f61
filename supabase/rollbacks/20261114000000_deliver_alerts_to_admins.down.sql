-- Undoes 20261114000000_deliver_alerts_to_admins. New alerts reach nobody until polled again;
-- notifications and mail already sent stay, as do the audit entries of preference changes.
drop view if exists admin.alert_preferences;
drop function if exists admin.set_alert_email(boolean);

drop trigger if exists after_insert_notify_admins on private.alerts;
drop function if exists private.tg_alerts__notify_admins();
drop table if exists private.alert_preferences;
drop function if exists private.tg_alert_preferences__audit();

drop function if exists private.record_site_url(text);
delete from private.platform_settings where key = 'site_url';
drop index if exists public.profiles_active_admins_idx;
