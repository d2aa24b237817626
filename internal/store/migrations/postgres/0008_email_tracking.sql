-- Email tracking: when a delivery's mail was first opened (its pixel
-- fetched) and first clicked (a tracked link followed), Unix microseconds,
-- 0 for not yet. GET /v1/stats/notifications counts them.
ALTER TABLE deliveries ADD COLUMN opened_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN clicked_at BIGINT NOT NULL DEFAULT 0;
