-- Case files (issue 17): a PDF or DOCX case file stored as evidence is audited under its
-- inspection or enterprise with its key and SHA-256; a GIS export of findings or parcels is
-- audited under export/findings or export/parcels with its format, filter and count.
INSERT INTO audit_actions (action) VALUES ('casefile.generate'), ('evidence.export') ON CONFLICT DO NOTHING;
