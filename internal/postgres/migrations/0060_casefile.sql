-- Case files (issue 17): a PDF or DOCX case file stored as evidence is audited under its
-- inspection or enterprise with its key and SHA-256.
INSERT INTO audit_actions (action) VALUES ('casefile.generate') ON CONFLICT DO NOTHING;
