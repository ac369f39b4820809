DROP TABLE IF EXISTS ownership_history;
