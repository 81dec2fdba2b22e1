-- Webhooks: subscriptions, and a transactional outbox of deliveries fed by the events table.
-- Every change already records its events in its own transaction (record_events); a trigger on
-- events turns the ones a webhook subscribes to into delivery rows in that same transaction, so a
-- delivery exists exactly when its change committed, whichever statement wrote the event.

CREATE TABLE webhooks (
  id          uuid PRIMARY KEY,
  seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  url         text NOT NULL,
  events      text[] NOT NULL,
  disabled    boolean NOT NULL DEFAULT false,
  -- The signing secret, sealed with SecretKeys.encrypt: the service needs it back to sign.
  secret      bytea NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

-- No foreign key to webhooks: each insert would take a KEY SHARE lock on the webhook's row from
-- every concurrent issuance (multixacts on one hot row). Deleting a webhook deletes its deliveries;
-- one enqueued concurrently with the delete is dropped by the worker.
CREATE TABLE webhook_deliveries (
  -- Sent as webhook-id: the idempotency id, the same on every attempt and on a redelivery.
  id                    uuid PRIMARY KEY,
  seq                   bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  webhook_id            uuid NOT NULL,
  event_id              uuid NOT NULL,
  event_type            text NOT NULL,
  payload               jsonb NOT NULL,
  status                text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts              integer NOT NULL DEFAULT 0,
  -- When a pending delivery is due; while an instance is sending it, the end of that instance's
  -- lease, so that the delivery of an instance that died is taken up again after it.
  next_attempt_at       timestamptz NOT NULL DEFAULT now(),
  -- Which claim holds the lease: only that claim may record the attempt's outcome.
  lease                 uuid,
  -- Retries stop once they would start later than WEBHOOK_RETRY_FOR_SECONDS after this.
  retry_from            timestamptz NOT NULL DEFAULT now(),
  created_at            timestamptz NOT NULL DEFAULT now(),
  last_attempt_at       timestamptz,
  last_response_status  integer,
  last_error            text,
  delivered_at          timestamptz
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook_seq ON webhook_deliveries (webhook_id, seq);
-- The retention sweep removes finished deliveries by age (src/retention/sweeper.ts).
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (created_at) WHERE status <> 'pending';

-- The webhook event an analytics event is, if any (README, Webhooks).
CREATE FUNCTION webhook_event_name(p_type text, p_data jsonb) RETURNS text LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN p_type = 'OPENID_PRE_AUTHORIZED_OFFER_CREATE_SUCCESS' THEN 'offer.created'
    WHEN p_type = 'OPENID_TOKEN_CREATE_SUCCESS' THEN 'offer.redeemed'
    WHEN p_type = 'OPENID_TOKEN_CREATE_FAIL' AND p_data ->> 'locked' = 'true' THEN 'offer.locked'
    WHEN p_type = 'OPENID_PRE_AUTHORIZED_OFFER_EXPIRE_SUCCESS' THEN 'offer.expired'
    WHEN p_type = 'OPENID_PRE_AUTHORIZED_OFFER_DELETE_SUCCESS' THEN 'offer.revoked'
    WHEN p_type = 'OPENID_CREDENTIAL_ISSUE_SUCCESS' THEN 'credential.issued'
    WHEN p_type = 'OPENID_CREDENTIAL_NOTIFICATION_SUCCESS' THEN 'credential.notification_received'
    WHEN p_type IN ('SD_JWT_CREDENTIAL_STATUS_SET_SUCCESS', 'MOBILE_CREDENTIAL_STATUS_SET_SUCCESS') THEN 'credential.status_changed'
  END
$$;

CREATE FUNCTION enqueue_webhook_deliveries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  event_name text := webhook_event_name(NEW.type, NEW.data);
BEGIN
  IF event_name IS NULL THEN RETURN NULL; END IF;
  INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload)
  SELECT uuid_v7(), w.id, NEW.id, event_name,
         jsonb_build_object('type', event_name,
                            'timestamp', to_char(NEW.timestamp AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                            'eventId', NEW.id,
                            'data', NEW.data)
  FROM webhooks w
  WHERE NOT w.disabled AND event_name = ANY (w.events);
  -- Wakes the delivery workers of every instance (src/webhooks/worker.ts), on commit only.
  IF FOUND THEN PERFORM pg_notify('vci_invalidate', 'webhook-deliveries:*'); END IF;
  RETURN NULL;
END;
$$;

-- The WHEN list is webhook_event_name's types again: a function call in WHEN is not inlined, and
-- would cost every event row (half of them _START rows) about as much as the trigger itself.
CREATE TRIGGER events_enqueue_webhook_deliveries AFTER INSERT ON events
  FOR EACH ROW WHEN (NEW.type IN ('OPENID_PRE_AUTHORIZED_OFFER_CREATE_SUCCESS', 'OPENID_TOKEN_CREATE_SUCCESS', 'OPENID_TOKEN_CREATE_FAIL',
                                  'OPENID_PRE_AUTHORIZED_OFFER_EXPIRE_SUCCESS', 'OPENID_PRE_AUTHORIZED_OFFER_DELETE_SUCCESS',
                                  'OPENID_CREDENTIAL_ISSUE_SUCCESS', 'OPENID_CREDENTIAL_NOTIFICATION_SUCCESS',
                                  'SD_JWT_CREDENTIAL_STATUS_SET_SUCCESS', 'MOBILE_CREDENTIAL_STATUS_SET_SUCCESS'))
  EXECUTE FUNCTION enqueue_webhook_deliveries();

-- Offers expire by the clock, with no change to record: a scan records an event for each pending
-- offer whose expiry passed since the last scan. One instance scans at a time (the row lock); the
-- scan starts from now, not from the offers that expired before webhooks existed.
CREATE TABLE offer_expiry_scan (
  singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  scanned_until timestamptz NOT NULL
);
INSERT INTO offer_expiry_scan (scanned_until) VALUES (now());
