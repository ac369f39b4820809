DROP TRIGGER IF EXISTS grain_placement_count_ins ON grain_placement;
DROP TRIGGER IF EXISTS grain_placement_count_del ON grain_placement;
DROP TRIGGER IF EXISTS grain_placement_count_upd ON grain_placement;
DROP FUNCTION IF EXISTS grain_placement_count_add();
DROP FUNCTION IF EXISTS grain_placement_count_sub();
DROP FUNCTION IF EXISTS grain_placement_count_move();
CREATE TRIGGER grain_placement_count AFTER INSERT OR UPDATE OF member OR DELETE ON grain_placement
    FOR EACH ROW EXECUTE FUNCTION grain_placement_count();
