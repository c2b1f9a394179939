-- A public notice is counted from when it was posted by the server's clock, not from the
-- notice_start it names (issue 13 item 6). Entries on notice from before that time was kept
-- take it from their list.notice audit entry, so that a back-dated notice still under way
-- cannot be listed before it has run its days.
UPDATE list_entries l SET doc = jsonb_set(l.doc, '{notice_posted_at}', to_jsonb(a.at))
FROM (SELECT subject, max(at) AS at FROM audit_log WHERE action = 'list.notice' GROUP BY subject) a
WHERE a.subject = 'list-entry/' || l.id AND l.status = 'notice' AND NOT l.doc ? 'notice_posted_at';
