-- Each event carries its own refund policy: buyers may refund their tickets until
-- `buyer_refund_cutoff_secs` seconds before the start, or never when it is NULL. The
-- organizer can refund at any time. Events created before this migration keep the policy
-- they were sold under: the former server-wide default of 48 hours.
ALTER TABLE events ADD COLUMN buyer_refund_cutoff_secs BIGINT;
UPDATE events SET buyer_refund_cutoff_secs = 172800;
