-- What the dashboard counts over a time range, each read through an index
-- of its own: bills by when they were written and messages by when they
-- were queued. Orders have no index of their own for it: every index on
-- orders is paid for by each stored version, and the hours are counted
-- once (order_hours below), through orders_by_update, as an order is
-- changed no earlier than it was first seen.
CREATE INDEX flow_items_by_written ON flow_items (written_at, flow) WHERE written_at > 0;
CREATE INDEX deliveries_by_created ON deliveries (created_at);

-- Orders per source and hour of first arrival, for hours that have ended:
-- an order's first arrival is the hub's own clock, so an ended hour never
-- gains an order, and the dashboard reads a month as 720 rows instead of
-- every order. order_hours_done lists the hours counted (an hour without
-- orders has no order_hours row). Filled on first use by any node. Hours
-- are Unix microseconds of the hour's start; totals are as when counted.
CREATE TABLE order_hours (
    hour      INTEGER NOT NULL,
    source    TEXT    NOT NULL,
    orders    INTEGER NOT NULL,
    total_fen INTEGER NOT NULL,
    PRIMARY KEY (hour, source)
);
CREATE TABLE order_hours_done (
    hour INTEGER PRIMARY KEY
);
-- The endpoints' backlog by state: only messages still waiting or failed,
-- so a sent one leaves it and it stays as small as the backlog.
CREATE INDEX deliveries_by_state ON deliveries (state, system) WHERE state IN ('queued', 'collecting', 'sending', 'failed');
-- The read API's order lists by status, in the order it pages (updated_at,
-- id), and the exception list in id order. A list by source pages through
-- orders_by_update: there are few sources, so a page is found in a few
-- times its length.
CREATE INDEX orders_by_status ON orders (status, updated_at, id);
CREATE INDEX flow_items_by_state_id ON flow_items (state, id);
-- The flows' backlog by state, counted from the index alone.
CREATE INDEX flow_items_by_state_flow ON flow_items (state, flow);
