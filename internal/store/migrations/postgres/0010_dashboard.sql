-- What the dashboard counts over a time range, each read through an index
-- of its own: orders by first arrival (with source and total, so the hourly
-- counts never touch the rows), bills by when they were written, and
-- messages by when they were queued.
CREATE INDEX orders_by_arrival ON orders (first_seen_at, source, total_fen);
CREATE INDEX flow_items_by_written ON flow_items (written_at, flow) WHERE written_at > 0;
CREATE INDEX deliveries_by_created ON deliveries (created_at);
