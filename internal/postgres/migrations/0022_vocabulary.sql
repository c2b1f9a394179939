-- The enforcement vocabulary as the schema's own constraints (issue 14): every column holding
-- one of internal/enforce's typed constants accepts only those.
--
-- inspections.level is the level of the enforcement body (enforce.Level). The workers used to
-- store the finding's severity there ("high", "medium"); those inspections were opened by this
-- deployment, whose default level is city.
UPDATE inspections SET level = 'city', doc = jsonb_set(doc, '{level}', '"city"')
WHERE level NOT IN ('county', 'city', 'province', 'national');
ALTER TABLE inspections ADD CONSTRAINT inspections_level_check
    CHECK (level IN ('county', 'city', 'province', 'national'));
