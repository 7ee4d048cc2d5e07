SELECT count(*) FROM events WHERE payload @> '{"type": "refund"}';
