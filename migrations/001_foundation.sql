-- API keys for the management API. Only an HMAC of the key is stored.
CREATE TABLE api_keys (
  id          uuid PRIMARY KEY,
  seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  name        text NOT NULL,
  role        text NOT NULL CHECK (role IN ('admin', 'issuer', 'managed-issuer', 'auditor')),
  key_hash    bytea NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

-- Analytics events, written in the same transaction as the change they describe.
CREATE TABLE events (
  id          uuid PRIMARY KEY,
  seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  type        text NOT NULL,
  category    text NOT NULL,
  timestamp   timestamptz NOT NULL DEFAULT now(),
  request_id  text,
  actor       text,
  data        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX events_type_seq ON events (type, seq);
CREATE INDEX events_category_seq ON events (category, seq);
CREATE INDEX events_timestamp ON events (timestamp);

-- The one way events are written: START and its outcome, in the caller's statement or transaction,
-- so they commit exactly when the change they describe does. Callable from inside a larger statement.
CREATE FUNCTION record_events(p_type text, p_category text, p_request_id text, p_actor text, p_outcome text, p_data jsonb)
RETURNS integer LANGUAGE sql VOLATILE AS $$
  INSERT INTO events (id, type, category, timestamp, request_id, actor, data) VALUES
    (gen_random_uuid(), p_type || '_START', p_category, clock_timestamp(), p_request_id, p_actor, '{}'),
    (gen_random_uuid(), p_type || '_' || p_outcome, p_category, clock_timestamp(), p_request_id, p_actor, p_data);
  SELECT 2;
$$;
