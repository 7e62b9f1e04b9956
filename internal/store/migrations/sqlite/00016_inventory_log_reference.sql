-- The change log can be narrowed to one reference (exact match), such as an
-- order number: every entry an order causes carries it, so an order's page
-- links to its entries. Most movements carry no reference, so the index is
-- partial like the batch index (00014): they write nothing into it. It ends
-- in id, so a page is a keyset range of it.

-- +goose Up
CREATE INDEX inventory_log_reference ON inventory_log (workspace_id, reference, id) WHERE reference <> '';

-- +goose Down
DROP INDEX inventory_log_reference;
