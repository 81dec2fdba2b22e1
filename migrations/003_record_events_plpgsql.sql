-- record_events, unchanged in what it writes, in PL/pgSQL: a LANGUAGE sql function that is not
-- inlined plans its INSERT again on every call, while PL/pgSQL keeps the plan for the session.
-- Measured on the offer statement: about a quarter less PostgreSQL CPU per offer (see BENCHMARKS.md).
CREATE OR REPLACE FUNCTION record_events(p_type text, p_category text, p_request_id text, p_actor text, p_outcome text, p_data jsonb)
RETURNS integer LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  INSERT INTO events (id, type, category, timestamp, request_id, actor, data) VALUES
    (gen_random_uuid(), p_type || '_START', p_category, clock_timestamp(), p_request_id, p_actor, '{}'),
    (gen_random_uuid(), p_type || '_' || p_outcome, p_category, clock_timestamp(), p_request_id, p_actor, p_data);
  RETURN 2;
END;
$$;
