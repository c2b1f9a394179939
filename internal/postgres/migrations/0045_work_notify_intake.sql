-- Work queues, notifications, the enterprise's own side and the intake of complaints, media
-- reports and referrals (issue 16, parts 3–6).

-- Warnings now also come from the enterprise's own report of an incident (主动报告) and from the
-- intake of the other site-visit triggers (三.7).
ALTER TABLE inspection_warnings DROP CONSTRAINT inspection_warnings_source_check;
ALTER TABLE inspection_warnings ADD CONSTRAINT inspection_warnings_source_check
    CHECK (source IN ('finding', 'monitoring', 'self_report', 'complaint', 'media_report', 'referral'));

-- Inspections by status: the inbox reads those waiting for someone.
CREATE INDEX inspections_status_idx ON inspections (status) WHERE status <> 'closed';

-- Incidents the enterprise reported itself (四.9 主动报告).
CREATE TABLE incidents (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uscc          text NOT NULL REFERENCES enterprises (uscc),
    occurred_at   timestamptz NOT NULL,
    description   text NOT NULL CHECK (description <> ''),
    measures      text NOT NULL DEFAULT '',
    inspection_id bigint NOT NULL REFERENCES inspections (id),
    reported_by   text NOT NULL,
    reported_at   timestamptz NOT NULL
);
CREATE INDEX incidents_uscc_idx ON incidents (uscc, reported_at);

-- Intake: a matter is what one or more reports (duplicates joined) are about; it rides on the
-- enterprise's inspection, which a site visit on the matter's trigger may follow.
CREATE TABLE intake_matters (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    uscc          text NOT NULL REFERENCES enterprises (uscc),
    trigger       text NOT NULL CHECK (trigger IN ('complaint', 'media_report', 'referral')),
    summary       text NOT NULL,
    inspection_id bigint NOT NULL REFERENCES inspections (id),
    opened_by     text NOT NULL,
    opened_at     timestamptz NOT NULL
);
CREATE INDEX intake_matters_uscc_idx ON intake_matters (uscc, id);
CREATE INDEX intake_matters_inspection_idx ON intake_matters (inspection_id);

CREATE TABLE intake_reports (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    matter_id   bigint NOT NULL REFERENCES intake_matters (id),
    source      text NOT NULL CHECK (source IN ('complaint', 'media_report', 'referral')),
    source_ref  text NOT NULL CHECK (source_ref <> ''),
    reporter    text NOT NULL DEFAULT '',
    summary     text NOT NULL CHECK (summary <> ''),
    received_at timestamptz NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX intake_reports_matter_idx ON intake_reports (matter_id, id);
-- The same report (source and its reference) is recorded once.
CREATE UNIQUE INDEX intake_reports_source_ref_idx ON intake_reports (source, source_ref);

-- The outbox: one row per event, written in the transaction of the event; the worker's
-- notify tasks deliver it. dedupe_key makes events raised by a sweep (deadlines) happen once.
CREATE TABLE outbox (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event         text NOT NULL,
    subject       text NOT NULL,
    uscc          text NOT NULL DEFAULT '',
    title         text NOT NULL,
    body          text NOT NULL DEFAULT '',
    dedupe_key    text UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    dispatched_at timestamptz
);
CREATE INDEX outbox_pending_idx ON outbox (id) WHERE dispatched_at IS NULL;

-- Each delivery of an outbox event on one channel to one target, retried until delivered.
CREATE TABLE notification_deliveries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id    bigint NOT NULL REFERENCES outbox (id),
    channel      text NOT NULL CHECK (channel IN ('inapp', 'email', 'webhook')),
    target       text NOT NULL,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT '',
    delivered_at timestamptz,
    UNIQUE (outbox_id, channel, target)
);

-- In-app messages: one per event and audience (the roles and, for an enterprise's event, its
-- USCC, as the outbox row says); each user's reads are kept apart.
CREATE TABLE notification_messages (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    outbox_id  bigint NOT NULL UNIQUE REFERENCES outbox (id),
    event      text NOT NULL,
    roles      text[] NOT NULL,
    uscc       text NOT NULL DEFAULT '',
    subject    text NOT NULL,
    title      text NOT NULL,
    body       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL
);
CREATE INDEX notification_messages_roles_idx ON notification_messages USING gin (roles);
CREATE TABLE notification_reads (
    message_id bigint NOT NULL REFERENCES notification_messages (id),
    user_name  text NOT NULL,
    read_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_name, message_id)
);

-- Each user's choice of events; NULL arrays take the defaults (in-app: every event of the
-- role; e-mail: none).
CREATE TABLE notification_prefs (
    user_name    text PRIMARY KEY,
    role         text NOT NULL,
    uscc         text NOT NULL DEFAULT '',
    email        text NOT NULL DEFAULT '',
    inapp_events text[],
    email_events text[],
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_prefs_email_idx ON notification_prefs USING gin (email_events);

-- Webhook subscriptions (a provincial platform, a messaging gateway), managed by admins. The
-- secret signs each delivery (HMAC-SHA256); it is shown once, at creation.
CREATE TABLE webhook_subscriptions (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (name <> ''),
    url        text NOT NULL,
    events     text[] NOT NULL,
    secret     text NOT NULL,
    active     boolean NOT NULL DEFAULT true,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- The application never deletes what it delivered or was told.
REVOKE DELETE, TRUNCATE ON outbox, notification_deliveries, notification_messages, incidents,
    intake_matters, intake_reports FROM offsite_app;

INSERT INTO audit_actions (action) VALUES
    ('inspection.amend_report'), ('inspection.withdraw_report'), ('inspection.request_extension'),
    ('inspection.decide_extension'), ('incident.report'), ('intake.record'), ('intake.join'),
    ('webhook.subscribe'), ('webhook.unsubscribe')
ON CONFLICT DO NOTHING;
