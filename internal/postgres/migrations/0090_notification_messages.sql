-- Notification titles and bodies as sentences of the message catalog (internal/msgs: a code
-- and its arguments), beside the English text, so that the inbox shows them in the user's
-- language; NULL where the text has no fixed form (a person's words) or was written before.
ALTER TABLE outbox ADD COLUMN title_message jsonb, ADD COLUMN body_message jsonb;
ALTER TABLE notification_messages ADD COLUMN title_message jsonb, ADD COLUMN body_message jsonb;
