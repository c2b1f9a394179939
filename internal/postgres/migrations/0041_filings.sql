-- Filing with the province and list adjustments through public notice (issue 16 part 2).
-- The filings and the adjustment live in list_entries.doc; filed_at is kept as a column too,
-- for the province's queue of filings to receive.
ALTER TABLE list_entries ADD COLUMN filed_at timestamptz;
CREATE INDEX list_entries_to_file ON list_entries ((doc->>'to_file')) WHERE doc->>'to_file' IS NOT NULL;

INSERT INTO audit_actions (action) VALUES
    ('list.adjustment_notice'), ('list.filing_submit'), ('list.filing_receipt')
ON CONFLICT DO NOTHING;
