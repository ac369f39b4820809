package persistence

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// TicketsAt returns, for each of events, its ticket ids by seat-map index
// (tickets.idx, the index the journal's records name). `boxoffice check`
// maps an acknowledged hold's journal record back to ticket ids with it:
// a standing place's ticket is chosen by the event, so the reply that
// named it is only kept if the journal holds that very place (h19chaos).
func (a Audit) TicketsAt(ctx context.Context, events []uuid.UUID) (map[uuid.UUID]map[int32]uuid.UUID, error) {
	rows, err := a.q.Query(ctx, `SELECT event_id, idx, ticket_id FROM tickets WHERE event_id = ANY($1)`, events)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]map[int32]uuid.UUID, len(events))
	var (
		ev, id uuid.UUID
		idx    int32
	)
	_, err = pgx.ForEachRow(rows, []any{&ev, &idx, &id}, func() error {
		m := out[ev]
		if m == nil {
			m = map[int32]uuid.UUID{}
			out[ev] = m
		}
		m[idx] = id
		return nil
	})
	return out, err
}
