-- Releasing a monitoring point's quarantined frames into its series is audited (issue 15).
INSERT INTO audit_actions (action) VALUES ('monitoring_point.release_quarantine') ON CONFLICT DO NOTHING;
