package boxoffice

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Check-in at the door (API.md "Tickets and check-in"): the event's actor
// admits each ticket exactly once, whichever node the scan reaches.

// Error codes of POST /checkin beside EInvalidTicket.
const (
	// EAlreadyAdmitted: the ticket was admitted before (409); details say
	// when and at which gate.
	EAlreadyAdmitted = "already_admitted"
	// ETicketRevoked: the ticket's booking was refunded or cancelled, or
	// its event was cancelled (409).
	ETicketRevoked = "ticket_revoked"
)

// RoleScanner is door staff: check-in for the events in User.EventIDs.
const RoleScanner = "scanner"

// MaxGateLen bounds a gate's name (bytes), which the journal keeps with
// every admission.
const MaxGateLen = 64

// CheckInRequest is one scan of a verified ticket code.
type CheckInRequest struct {
	Code TicketCode
	// Scanner is the user who scanned.
	Scanner uuid.UUID
	// Gate names the door, "" when the scanner did not say.
	Gate string
	// ScannedAt is when the scan was made, for scans made offline and
	// synced later; zero for a scan sent at once.
	ScannedAt time.Time
}

// Admission is a ticket's check-in: the first scan the event's actor
// decided on.
type Admission struct {
	TicketID   uuid.UUID
	EventID    uuid.UUID
	BookingID  uuid.UUID
	Index      int
	AdmittedAt time.Time
	Gate       string
	ScannedAt  time.Time // zero when the scan was not made offline
}

// CheckInService admits tickets (actors.Engine implements it). CheckIn
// returns the new admission once it is durable, or EAlreadyAdmitted (with
// the first admission in the error's details: admitted_at, gate,
// scanned_at), ETicketRevoked, ENotFound for a seat the event does not
// have, or EUnavailable.
type CheckInService interface {
	CheckIn(ctx context.Context, req CheckInRequest) (Admission, error)
}

// AlreadyAdmitted is the already_admitted error for the first admission a.
func AlreadyAdmitted(a Admission) *Error {
	e := Errorf(EAlreadyAdmitted, "the ticket was admitted at %s", a.AdmittedAt.UTC().Format(time.RFC3339))
	if a.Gate != "" {
		e.Message += " at gate " + a.Gate
	}
	e.Details = map[string]any{"admitted_at": a.AdmittedAt.UTC().Format(time.RFC3339Nano), "gate": a.Gate}
	if !a.ScannedAt.IsZero() {
		e.Details["scanned_at"] = a.ScannedAt.UTC().Format(time.RFC3339Nano)
	}
	return e
}

// CanScan reports whether u may check tickets in for the event: an admin
// anywhere, a scanner for the events its token names.
func (u User) CanScan(eventID uuid.UUID) bool {
	if u.IsAdmin() {
		return true
	}
	return slices.Contains(u.Roles, RoleScanner) && slices.Contains(u.EventIDs, eventID)
}

// IsScanner reports whether u has the scanner role.
func (u User) IsScanner() bool { return slices.Contains(u.Roles, RoleScanner) }
