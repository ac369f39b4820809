package cluster

import (
	"context"
	"slices"
	"sync"
)

// MemoryPlacement is a PlacementStore in memory, shared by the nodes of one
// process (tests, benchmarks, a single-process deployment). Nodes in
// different processes need a shared store such as persistence.DB.
type MemoryPlacement struct {
	mu       sync.Mutex
	records  map[[2]string]string // {kind, identity} -> member id
	excluded map[string]bool
}

// NewMemoryPlacement returns an empty store.
func NewMemoryPlacement() *MemoryPlacement {
	return &MemoryPlacement{records: map[[2]string]string{}, excluded: map[string]bool{}}
}

// Claim implements PlacementStore.
func (s *MemoryPlacement) Claim(_ context.Context, kind string, identities, live []string, choose func(string, map[string]int) string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	counts := s.countsLocked(kind, live)
	for m := range s.excluded {
		if slices.Contains(live, m) {
			counts[m] = -1
		}
	}
	owners := make(map[string]string, len(identities))
	for _, id := range identities {
		key := [2]string{kind, id}
		if m, ok := s.records[key]; ok && slices.Contains(live, m) {
			owners[id] = m
			continue
		}
		owner := choose(id, counts)
		if owner == "" {
			continue
		}
		s.records[key] = owner
		owners[id] = owner
		if counts[owner] >= 0 {
			counts[owner]++
		}
	}
	return owners, nil
}

// HeldBy implements PlacementStore.
func (s *MemoryPlacement) HeldBy(_ context.Context, kind string, members []string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for k, m := range s.records {
		if k[0] == kind && slices.Contains(members, m) {
			ids = append(ids, k[1])
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// Ensure implements PlacementStore.
func (s *MemoryPlacement) Ensure(_ context.Context, kind string, identities []string, member string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range identities {
		key := [2]string{kind, id}
		if _, ok := s.records[key]; !ok {
			s.records[key] = member
		}
	}
	return nil
}

// Release implements PlacementStore.
func (s *MemoryPlacement) Release(_ context.Context, kind, identity, member string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := [2]string{kind, identity}
	if s.records[key] == member {
		delete(s.records, key)
	}
	return nil
}

// ReleaseMember implements PlacementStore.
func (s *MemoryPlacement) ReleaseMember(_ context.Context, member string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, m := range s.records {
		if m == member {
			delete(s.records, k)
		}
	}
	return nil
}

// Owners implements PlacementStore.
func (s *MemoryPlacement) Owners(_ context.Context, kind string, identities []string) (map[string]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for _, id := range identities {
		if m, ok := s.records[[2]string{kind, id}]; ok {
			out[id] = m
		}
	}
	return out, nil
}

// Counts implements PlacementStore.
func (s *MemoryPlacement) Counts(_ context.Context, kind string, live []string) (map[string]int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.countsLocked(kind, live), nil
}

func (s *MemoryPlacement) countsLocked(kind string, live []string) map[string]int {
	counts := make(map[string]int, len(live))
	for k, m := range s.records {
		if k[0] == kind && slices.Contains(live, m) {
			counts[m]++
		}
	}
	return counts
}

// Exclude implements PlacementStore.
func (s *MemoryPlacement) Exclude(_ context.Context, member string, excluded bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if excluded {
		s.excluded[member] = true
	} else {
		delete(s.excluded, member)
	}
	return nil
}
