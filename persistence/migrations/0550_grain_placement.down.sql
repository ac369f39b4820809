DROP TABLE IF EXISTS grain_placement;
