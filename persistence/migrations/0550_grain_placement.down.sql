DROP TRIGGER IF EXISTS grain_placement_count ON grain_placement;
DROP FUNCTION IF EXISTS grain_placement_count();
DROP TABLE IF EXISTS grain_placement_counts;
DROP TABLE IF EXISTS grain_placement_excluded;
DROP TABLE IF EXISTS grain_placement;
