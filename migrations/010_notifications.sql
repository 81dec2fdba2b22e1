-- OID4VCI 1.0 §11: each credential response carries a notification_id, with which the wallet later
-- says what became of those credentials: accepted, failed (not stored), or deleted by the holder.
ALTER TABLE credential_issuances
  ADD COLUMN notification_id uuid,
  ADD COLUMN holder_event text CHECK (holder_event IN ('credential_accepted', 'credential_failure', 'credential_deleted')),
  ADD COLUMN holder_event_at timestamptz;
CREATE INDEX credential_issuances_notification ON credential_issuances (notification_id) WHERE notification_id IS NOT NULL;
