DROP TABLE IF EXISTS ticket_keys;
