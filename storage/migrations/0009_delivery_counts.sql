-- A broadcast's progress, counted as its deliveries change: showing it costs the same for 100
-- recipients as for 100,000 (counting the rows each time cost 23 ms at 97,000, 21 times a
-- second while sending). Triggers keep the counts, so no statement can forget to.

CREATE TABLE delivery_counts (
    broadcast_id INTEGER NOT NULL REFERENCES broadcasts (id),
    status       TEXT NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (broadcast_id, status)
) WITHOUT ROWID;

INSERT INTO delivery_counts (broadcast_id, status, n)
SELECT broadcast_id, status, count(*) FROM deliveries GROUP BY broadcast_id, status;

CREATE TRIGGER delivery_counts_insert AFTER INSERT ON deliveries
BEGIN
    INSERT INTO delivery_counts (broadcast_id, status, n) VALUES (NEW.broadcast_id, NEW.status, 1)
    ON CONFLICT (broadcast_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER delivery_counts_update AFTER UPDATE OF status ON deliveries
WHEN OLD.status IS NOT NEW.status
BEGIN
    UPDATE delivery_counts SET n = n - 1
    WHERE broadcast_id = OLD.broadcast_id AND status = OLD.status;
    INSERT INTO delivery_counts (broadcast_id, status, n) VALUES (NEW.broadcast_id, NEW.status, 1)
    ON CONFLICT (broadcast_id, status) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER delivery_counts_delete AFTER DELETE ON deliveries
BEGIN
    UPDATE delivery_counts SET n = n - 1
    WHERE broadcast_id = OLD.broadcast_id AND status = OLD.status;
END;
