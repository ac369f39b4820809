DROP TABLE IF EXISTS grain_placement_excluded;
DROP TABLE IF EXISTS grain_placement;
