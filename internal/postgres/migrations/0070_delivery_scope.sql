-- Whom an event reaches by agency (issue 16 parts 2 and 4): in the app, by e-mail and by
-- webhook, an event reaches only the agencies it concerns.

-- outbox_path is the agency path an event concerns, from the province down: an enterprise's
-- event, its enterprise's agency; a survey's, the agency of the account that queued it; NULL
-- for an event of no agency (a nightly run, a survey queued by a token-file account or a
-- schedule), which concerns the provinces. Computed when read, so that an enterprise moved to
-- another agency takes its history along, as every other scoped read does.
CREATE FUNCTION outbox_path(uscc text, subject text) RETURNS bigint[] LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN $1 <> '' THEN (SELECT ag.path FROM enterprises e JOIN agencies ag ON ag.id = e.agency_id WHERE e.uscc = $1)
        WHEN $2 LIKE 'survey/%' THEN (SELECT ag.path FROM surveys s JOIN users u ON u.name = s.created_by
            JOIN agencies ag ON ag.id = u.agency_id WHERE s.id::text = substr($2, 8))
    END
$$;

-- outbox_reaches reports whether an event of agency path path reaches an account (a user, a
-- webhook subscription) of agency agency: the agency lies on the path (the event's own agency
-- or one above it); an event of no agency reaches the provinces. An account of no agency (NULL
-- or 0: a token-file account) reaches every event.
CREATE FUNCTION outbox_reaches(path bigint[], agency bigint) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT CASE
        WHEN $2 IS NULL OR $2 = 0 THEN true
        WHEN $1 IS NULL THEN EXISTS (SELECT 1 FROM agencies WHERE id = $2 AND parent_id IS NULL)
        ELSE $2 = ANY($1)
    END
$$;

-- A webhook subscription belongs to the agency of the administrator who made it (the first
-- province for a token-file administrator) and receives only the events that reach it.
ALTER TABLE webhook_subscriptions ADD COLUMN agency_id bigint REFERENCES agencies (id) DEFAULT first_province();
UPDATE webhook_subscriptions SET agency_id = first_province() WHERE agency_id IS NULL;
ALTER TABLE webhook_subscriptions ALTER COLUMN agency_id SET NOT NULL;
