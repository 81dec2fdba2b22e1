-- Event ids become UUIDv7 (RFC 9562 §5.7), like every row id the service makes (src/db/ids.ts).
-- events is the table that grows fastest (six rows per issued credential) and is never swept; with
-- random ids every insert lands on a random page of its primary-key index, which once the index
-- outgrows shared_buffers costs a read and a full-page WAL image per insert.
-- PostgreSQL 17 has no uuidv7(): this one takes gen_random_uuid() and writes the Unix time in
-- milliseconds over its first 48 bits, and version 7 over its version 4 (0100 → 0111: bits 52 and 53
-- of the bytea, counted from the least significant bit of each byte). The variant bits stay as they are.
CREATE FUNCTION uuid_v7() RETURNS uuid LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
  SELECT encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
              PLACING substring(int8send(floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
              FROM 1 FOR 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;

CREATE OR REPLACE FUNCTION record_events(p_type text, p_category text, p_request_id text, p_actor text, p_outcome text, p_data jsonb)
RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  INSERT INTO events (id, type, category, timestamp, request_id, actor, data) VALUES
    (uuid_v7(), p_type || '_START', p_category, clock_timestamp(), p_request_id, p_actor, '{}'),
    (uuid_v7(), p_type || '_' || p_outcome, p_category, clock_timestamp(), p_request_id, p_actor, p_data);
  RETURN 2;
END;
$$;
