-- Each outbox row written is announced on the channel offsite_outbox with its id, when its
-- transaction commits: the workers that LISTEN queue its delivery at once (postgres.ListenOutbox);
-- the periodic sweep stays for what was written while no worker listened.
CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('offsite_outbox', NEW.id::text);
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox FOR EACH ROW EXECUTE FUNCTION outbox_notify();
