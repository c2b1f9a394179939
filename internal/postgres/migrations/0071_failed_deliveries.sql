-- Failed notification deliveries (issue 16 part 4): a delivery whose retries are spent is
-- marked failed and tried again every 6 hours for 8 days (retry_at: the next try; NULL once
-- the period is over or when no retry can help); administrators see and requeue them.
ALTER TABLE notification_deliveries
    ADD COLUMN failed_at timestamptz,
    ADD COLUMN retry_at  timestamptz,
    ADD CONSTRAINT notification_deliveries_retry_check CHECK (retry_at IS NULL OR failed_at IS NOT NULL);
CREATE INDEX notification_deliveries_failed_idx ON notification_deliveries (failed_at)
    WHERE delivered_at IS NULL AND failed_at IS NOT NULL;
CREATE INDEX notification_deliveries_retry_idx ON notification_deliveries (retry_at)
    WHERE delivered_at IS NULL AND retry_at IS NOT NULL;

INSERT INTO audit_actions (action) VALUES ('notification.requeue'), ('webhook.gone')
ON CONFLICT DO NOTHING;
