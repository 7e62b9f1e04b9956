-- An item may have a minimum level: the home page's stock alerts list the
-- items whose available stock, summed over all locations, is below it. In
-- micro-units like every quantity; NULL means no minimum.

-- +goose Up
ALTER TABLE items ADD COLUMN min_level INTEGER CHECK (min_level >= 0);
-- The alerts read only items with a minimum.
CREATE INDEX items_min_level ON items (workspace_id, id) WHERE min_level IS NOT NULL;

-- +goose Down
DROP INDEX items_min_level;
ALTER TABLE items DROP COLUMN min_level;
