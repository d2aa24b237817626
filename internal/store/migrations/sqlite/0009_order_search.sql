-- The console's order search, each filter read through an index: an order
-- number without its source, the buyer's phone (matched whole, read from the
-- canonical JSON so that the ingest path writes nothing more), and status or
-- source with the arrival time the results are sorted and paged by.
CREATE INDEX orders_by_no ON orders (order_no);
CREATE INDEX orders_by_phone ON orders (json_extract(canonical, '$.buyer.phone'));
CREATE INDEX orders_by_status_arrival ON orders (status, first_seen_at, id);
CREATE INDEX orders_by_source_arrival ON orders (source, first_seen_at, id);
CREATE INDEX orders_by_arrival_id ON orders (first_seen_at, id);
