-- A user's e-mail address for notifications is audited when it is set, changed or removed.
INSERT INTO audit_actions (action) VALUES ('notification.email') ON CONFLICT DO NOTHING;
