package search

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// currentFile names the live generation inside Config.Path. It is replaced
// atomically (write, sync, rename), so a crash leaves either the old or the
// new generation live, never a half-built one.
const currentFile = "CURRENT"

// generationPrefix starts the name of every generation directory.
const generationPrefix = "gen-"

// generation is one build of the index: a bleve directory under the root.
// The zero value is the in-memory index, which has no directory.
type generation struct {
	root string
	// Name is the directory name under root.
	Name string `json:"generation"`
	// Mapping is the mappingVersion the generation was built with.
	Mapping string `json:"mapping"`
}

func (g generation) dir() string { return filepath.Join(g.root, g.Name) }

// newGeneration names a fresh generation under root; names sort by time.
func newGeneration(root string) generation {
	if root == "" {
		return generation{}
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("%s%016x-%s", generationPrefix, time.Now().UnixNano(), hex.EncodeToString(b[:]))
	return generation{root: root, Name: name, Mapping: mappingVersion}
}

// currentGeneration reads CURRENT. ok is false when there is no usable live
// generation: none yet, its directory is gone, or it was built with another
// mapping version.
func currentGeneration(root string) (g generation, ok bool, err error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return g, false, fmt.Errorf("search: %w", err)
	}
	b, err := os.ReadFile(filepath.Join(root, currentFile))
	if errors.Is(err, fs.ErrNotExist) {
		return g, false, nil
	}
	if err != nil {
		return g, false, fmt.Errorf("search: %w", err)
	}
	if err := json.Unmarshal(b, &g); err != nil || !strings.HasPrefix(g.Name, generationPrefix) ||
		strings.ContainsAny(g.Name, `/\`) {
		return generation{}, false, nil // unreadable: start afresh
	}
	g.root = root
	if g.Mapping != mappingVersion {
		return g, false, nil
	}
	if _, err := os.Stat(g.dir()); err != nil {
		return g, false, nil
	}
	return g, true, nil
}

// commit makes g the live generation.
func (g generation) commit() error {
	if g.root == "" {
		return nil
	}
	b, err := json.Marshal(g)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	tmp := filepath.Join(g.root, currentFile+".tmp")
	if err := writeSynced(tmp, b); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(g.root, currentFile)); err != nil {
		return fmt.Errorf("search: commit generation: %w", err)
	}
	return syncDir(g.root)
}

// removeIfSuperseded deletes g's directory when CURRENT names another
// generation, i.e. after a Rebuild replaced it. It keeps the directory
// whenever in doubt.
func (g generation) removeIfSuperseded() {
	if g.root == "" {
		return
	}
	cur, ok, err := currentGeneration(g.root)
	if err != nil || !ok || cur.Name == g.Name {
		return
	}
	_ = os.RemoveAll(g.dir())
}

// remove deletes g's directory (an abandoned build).
func (g generation) remove() {
	if g.root != "" {
		_ = os.RemoveAll(g.dir())
	}
}

// removeStaleGenerations deletes every generation directory under root but
// keep: builds a crash interrupted, generations a Rebuild superseded.
func removeStaleGenerations(root, keep string) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return
	}
	for _, e := range entries {
		if e.IsDir() && strings.HasPrefix(e.Name(), generationPrefix) && e.Name() != keep {
			_ = os.RemoveAll(filepath.Join(root, e.Name()))
		}
	}
}

func writeSynced(path string, b []byte) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return fmt.Errorf("search: %w", err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("search: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("search: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("search: sync %s: %w", dir, err)
	}
	return nil
}
