package search

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/blevesearch/bleve/v2"
	index "github.com/blevesearch/bleve_index_api"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// tombstonePrefix keys, in the index's internal store, the revision at which
// an event was deleted: without it a redelivered older upsert would bring a
// deleted event back.
const tombstonePrefix = "tomb/"

// Apply upserts or deletes (Listing.Deleted) one event, keyed by EventID.
// It ignores a listing whose Revision is not newer than the one the index
// holds for that event (deleted events included), so redelivery and
// reordering by the catalog stream are harmless. It returns an
// invalid_argument *boxoffice.Error for a listing that can never be
// indexed (a poison message: drop it, do not retry), ErrClosed, or an
// index error (retry later).
func (ix *Index) Apply(l boxoffice.Listing) error {
	return ix.ApplyBatch([]boxoffice.Listing{l})
}

// ApplyBatch is Apply for many listings in one index batch, which is far
// cheaper per listing. If several listings name one event, the highest
// revision wins. Nothing is applied if any listing is invalid.
func (ix *Index) ApplyBatch(ls []boxoffice.Listing) error {
	for _, l := range ls {
		if err := validListing(l); err != nil {
			return err
		}
	}
	ls = newestPerEvent(ls)
	if len(ls) == 0 {
		return nil
	}
	ix.wmu.Lock()
	defer ix.wmu.Unlock()
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	if ix.closed {
		return ErrClosed
	}
	applied, err := applyNewer(ix.bi, ix.docs(), ls)
	if err != nil {
		return err
	}
	if ix.rebuilding {
		ix.pending = append(ix.pending, applied...)
	}
	var gone []uuid.UUID
	for _, l := range applied {
		if l.Deleted {
			gone = append(gone, l.EventID)
		}
	}
	ix.forgetAvailability(gone)
	return nil
}

// applyNewer writes the listings of ls that are newer than what bi holds,
// in one batch, and returns them. The caller serialises writers.
func applyNewer(bi bleve.Index, d docBuilder, ls []boxoffice.Listing) ([]boxoffice.Listing, error) {
	adv, err := bi.Advanced()
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	r, err := adv.Reader()
	if err != nil {
		return nil, fmt.Errorf("search: reader: %w", err)
	}
	defer r.Close()

	b := bi.NewBatch()
	applied := ls[:0:0]
	for _, l := range ls {
		st, err := storedState(r, docID(l))
		if err != nil {
			return nil, err
		}
		if st.known && l.Revision <= st.revision {
			continue
		}
		if err := stage(b, d, l, st); err != nil {
			return nil, err
		}
		applied = append(applied, l)
	}
	if len(applied) == 0 {
		return nil, nil
	}
	if err := bi.Batch(b); err != nil {
		return nil, fmt.Errorf("search: write batch: %w", err)
	}
	return applied, nil
}

// stage adds one change to the batch.
func stage(b *bleve.Batch, d docBuilder, l boxoffice.Listing, st revisionState) error {
	id := docID(l)
	if l.Deleted {
		if st.live {
			b.Delete(id)
		}
		b.SetInternal(tombstoneKey(id), encodeRevision(l.Revision))
		return nil
	}
	doc, err := d.newDocument(l)
	if err != nil {
		return err
	}
	if err := b.IndexAdvanced(doc); err != nil {
		return fmt.Errorf("search: index %s: %w", id, err)
	}
	if st.tombstone {
		b.DeleteInternal(tombstoneKey(id))
	}
	return nil
}

// revisionState is what the index knows of one event.
type revisionState struct {
	known     bool  // a document or a tombstone exists
	live      bool  // a document exists
	tombstone bool  // a tombstone exists
	revision  int64 // the newer of the two revisions
}

// storedState reads the stored revision of an event's document and of its
// tombstone.
func storedState(r index.IndexReader, id string) (revisionState, error) {
	var st revisionState
	doc, err := r.Document(id)
	if err != nil {
		return st, fmt.Errorf("search: read %s: %w", id, err)
	}
	if doc != nil {
		rev, err := storedRevision(doc)
		if err != nil {
			return st, err
		}
		st.known, st.live, st.revision = true, true, rev
	}
	v, err := r.GetInternal(tombstoneKey(id))
	if err != nil {
		return st, fmt.Errorf("search: read tombstone %s: %w", id, err)
	}
	if len(v) == 8 {
		rev := int64(binary.BigEndian.Uint64(v))
		st.tombstone = true
		if !st.known || rev > st.revision {
			st.revision = rev
		}
		st.known = true
	}
	return st, nil
}

// storedRevision decodes only the revision of a stored listing.
func storedRevision(doc index.Document) (int64, error) {
	var rev struct {
		Revision int64 `json:"revision"`
	}
	var err error
	doc.VisitFields(func(f index.Field) {
		if f.Name() == fieldSource {
			err = json.Unmarshal(f.Value(), &rev)
		}
	})
	if err != nil {
		return 0, fmt.Errorf("search: stored listing: %w", err)
	}
	return rev.Revision, nil
}

func tombstoneKey(id string) []byte { return []byte(tombstonePrefix + id) }

func encodeRevision(rev int64) []byte {
	return binary.BigEndian.AppendUint64(nil, uint64(rev))
}

// newestPerEvent keeps, for each event, the listing with the highest
// revision (the later one on a tie), in first-seen order.
func newestPerEvent(ls []boxoffice.Listing) []boxoffice.Listing {
	if len(ls) < 2 {
		return ls
	}
	at := make(map[uuid.UUID]int, len(ls))
	out := make([]boxoffice.Listing, 0, len(ls))
	for _, l := range ls {
		if i, ok := at[l.EventID]; ok {
			if l.Revision >= out[i].Revision {
				out[i] = l
			}
			continue
		}
		at[l.EventID] = len(out)
		out = append(out, l)
	}
	return out
}

// validListing rejects what the index could not store or render. A deleted
// listing needs only its EventID.
func validListing(l boxoffice.Listing) error {
	if l.EventID == uuid.Nil {
		return boxoffice.InvalidField("event_id", "listing has no event_id")
	}
	if l.Deleted {
		return nil
	}
	switch {
	case strings.TrimSpace(l.Name) == "":
		return boxoffice.InvalidField("name", "listing %s has no name", l.EventID)
	case l.StartsAt.IsZero() || l.StartsAt.Year() < minYear || l.StartsAt.Year() > maxYear:
		return boxoffice.InvalidField("starts_at", "listing %s starts_at %v out of range", l.EventID, l.StartsAt)
	case !finite(l.Location.Lat) || !finite(l.Location.Lon):
		return boxoffice.InvalidField("location", "listing %s location is not a number", l.EventID)
	}
	if err := l.Location.Validate(); err != nil {
		return err
	}
	return nil
}

func finite(f float64) bool { return !math.IsNaN(f) && !math.IsInf(f, 0) }
