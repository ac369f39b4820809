package boxoffice

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// A ticket code is the text of a ticket's QR code: a compact binary payload
// signed with Ed25519, in base64url without padding, so that a door can
// verify it offline with the public keys of GET /tickets/keys. The layout
// (docs/tickets.md), version 1:
//
//	0      version (1)
//	1..4   key id: the first 4 bytes of SHA-256(public key)
//	5..20  event id
//	21..24 seat index, big-endian (the ticket id is TicketSpace(event).ID(index))
//	25..40 booking id
//	41..44 issued at, Unix seconds, big-endian
//	45     section length s, then s bytes of the section name
//	       row length r, then r bytes of the row name
//	       seat number, 2 bytes big-endian (0: no numbered seat)
//	last 64 bytes: the Ed25519 signature of everything before it
//
// A code for section "A", row "1" is 115 bytes, 154 characters; the longest
// names the seat map allows (64 and 16 bytes) make 193 bytes, 258 characters.
const (
	ticketCodeVersion = 1
	ticketKeyIDLen    = 4
	ticketFixedLen    = 1 + ticketKeyIDLen + 16 + 4 + 16 + 4
	// ticketMinLen is the shortest well-formed code: empty names.
	ticketMinLen = ticketFixedLen + 1 + 1 + 2 + ed25519.SignatureSize
	// MaxTicketCodeLen bounds the text of a code, so that a decoder never
	// looks at more: 1 + 4 + 16 + 4 + 16 + 4 + 1 + 255 + 1 + 255 + 2 + 64
	// bytes in base64url.
	MaxTicketCodeLen = (ticketFixedLen + 1 + 255 + 1 + 255 + 2 + ed25519.SignatureSize + 2) / 3 * 4
)

// EInvalidTicket: a ticket code that is malformed, altered, truncated or
// signed by a key the deployment does not know (400 at check-in).
const EInvalidTicket = "invalid_ticket"

// ErrInvalidTicket is the sentinel of EInvalidTicket; VerifyTicketCode's
// errors match it with errors.Is.
var ErrInvalidTicket = &Error{Code: EInvalidTicket}

// TicketCode is what a ticket code says: which seat of which event, sold
// in which booking, when the code was issued and under which key.
type TicketCode struct {
	// KeyID names the signing key (hex of the 4 bytes; the JWKS "kid").
	KeyID string
	// EventID is the event the ticket admits to.
	EventID uuid.UUID
	// Index is the seat's flat index; TicketID is derived from it.
	Index int
	// TicketID is TicketSpace(EventID).ID(Index).
	TicketID uuid.UUID
	// BookingID is the sale the ticket belongs to.
	BookingID uuid.UUID
	// Section, Row and Seat label the seat, so a door shows it offline.
	Section string
	Row     string
	Seat    int
	// IssuedAt is when the code was issued, to the second.
	IssuedAt time.Time
}

// TicketKeyID returns the key id of pub: hex of the first 4 bytes of its
// SHA-256. It is stable, so every node derives the same id from a key.
func TicketKeyID(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return hex.EncodeToString(h[:ticketKeyIDLen])
}

// TicketKeys is a deployment's ticket-code keyring: one key that signs new
// codes and every older key that still verifies, so that rotation keeps
// sold tickets valid. It is immutable and safe for concurrent use.
type TicketKeys struct {
	signer ed25519.PrivateKey
	kid    [ticketKeyIDLen]byte
	pubs   map[[ticketKeyIDLen]byte]ed25519.PublicKey
	order  []ed25519.PublicKey
}

// NewTicketKeys builds a keyring that signs with active and verifies with
// active and older. It fails on a key of the wrong size or two keys with
// the same key id.
func NewTicketKeys(active ed25519.PrivateKey, older ...ed25519.PublicKey) (*TicketKeys, error) {
	if len(active) != ed25519.PrivateKeySize {
		return nil, errors.New("ticket keys: the signing key is not an Ed25519 private key")
	}
	k := &TicketKeys{signer: active, pubs: map[[ticketKeyIDLen]byte]ed25519.PublicKey{}}
	all := append([]ed25519.PublicKey{active.Public().(ed25519.PublicKey)}, older...)
	for i, pub := range all {
		if len(pub) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("ticket keys: key %d is not an Ed25519 public key", i)
		}
		id := keyID(pub)
		if _, dup := k.pubs[id]; dup {
			return nil, fmt.Errorf("ticket keys: two keys have the key id %x", id)
		}
		k.pubs[id] = pub
		k.order = append(k.order, pub)
	}
	k.kid = keyID(all[0])
	return k, nil
}

func keyID(pub ed25519.PublicKey) [ticketKeyIDLen]byte {
	h := sha256.Sum256(pub)
	return [ticketKeyIDLen]byte(h[:ticketKeyIDLen])
}

// PublicKeys returns the public keys, the signing one first, for the JWKS.
func (k *TicketKeys) PublicKeys() []ed25519.PublicKey {
	return append([]ed25519.PublicKey(nil), k.order...)
}

// ActiveKeyID is the key id new codes are signed under.
func (k *TicketKeys) ActiveKeyID() string { return hex.EncodeToString(k.kid[:]) }

// Sign returns the code of c under the signing key; c.KeyID and c.TicketID
// are ignored (the code carries the signing key's id and the index). It
// fails for names over 255 bytes, a seat over 65535 or a negative index.
func (k *TicketKeys) Sign(c TicketCode) (string, error) {
	if len(c.Section) > 255 || len(c.Row) > 255 || c.Seat < 0 || c.Seat > 0xffff || c.Index < 0 || int64(c.Index) > 0xffffffff {
		return "", fmt.Errorf("ticket code: seat %q/%q/%d at index %d does not fit", c.Section, c.Row, c.Seat, c.Index)
	}
	b := make([]byte, 0, ticketMinLen+len(c.Section)+len(c.Row))
	b = append(b, ticketCodeVersion)
	b = append(b, k.kid[:]...)
	b = append(b, c.EventID[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(c.Index))
	b = append(b, c.BookingID[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(c.IssuedAt.Unix()))
	b = append(b, byte(len(c.Section)))
	b = append(b, c.Section...)
	b = append(b, byte(len(c.Row)))
	b = append(b, c.Row...)
	b = binary.BigEndian.AppendUint16(b, uint16(c.Seat))
	b = append(b, ed25519.Sign(k.signer, b)...)
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Verify decodes code and checks its signature against the keyring. Every
// failure is an *Error with code invalid_ticket (errors.Is ErrInvalidTicket):
// not base64url, too short or too long, an unknown version or key, names
// that overrun the payload, or a signature that does not verify.
func (k *TicketKeys) Verify(code string) (TicketCode, error) {
	return VerifyTicketCode(code, func(kid [4]byte) ed25519.PublicKey { return k.pubs[kid] })
}

// VerifyTicketCode is Verify with the public key looked up by key id
// through lookup (nil: unknown key), for verifiers that hold only public
// keys, such as a door that fetched the JWKS.
func VerifyTicketCode(code string, lookup func(kid [4]byte) ed25519.PublicKey) (TicketCode, error) {
	if len(code) > MaxTicketCodeLen {
		return TicketCode{}, invalidTicket("the code is too long")
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(code)
	if err != nil || !base64URLOnly(code) {
		return TicketCode{}, invalidTicket("the code is not base64url")
	}
	if len(b) < ticketMinLen {
		return TicketCode{}, invalidTicket("the code is truncated")
	}
	if b[0] != ticketCodeVersion {
		return TicketCode{}, invalidTicket("unknown code version %d", b[0])
	}
	body, sig := b[:len(b)-ed25519.SignatureSize], b[len(b)-ed25519.SignatureSize:]
	c, err := parseTicketBody(body)
	if err != nil {
		return TicketCode{}, err
	}
	pub := lookup([4]byte(b[1:5]))
	if pub == nil {
		return TicketCode{}, invalidTicket("the code is signed by an unknown key %s", c.KeyID)
	}
	if !ed25519.Verify(pub, body, sig) {
		return TicketCode{}, invalidTicket("the signature does not verify")
	}
	return c, nil
}

// parseTicketBody reads the signed part; its length is already at least
// ticketMinLen - 64.
func parseTicketBody(b []byte) (TicketCode, error) {
	c := TicketCode{KeyID: hex.EncodeToString(b[1:5])}
	c.EventID = uuid.UUID(b[5:21])
	c.Index = int(binary.BigEndian.Uint32(b[21:25]))
	c.BookingID = uuid.UUID(b[25:41])
	c.IssuedAt = time.Unix(int64(binary.BigEndian.Uint32(b[41:45])), 0).UTC()
	rest := b[ticketFixedLen:]
	var ok bool
	if c.Section, rest, ok = lenPrefixed(rest); !ok {
		return TicketCode{}, invalidTicket("the section overruns the code")
	}
	if c.Row, rest, ok = lenPrefixed(rest); !ok {
		return TicketCode{}, invalidTicket("the row overruns the code")
	}
	if len(rest) != 2 {
		return TicketCode{}, invalidTicket("the seat number is malformed")
	}
	c.Seat = int(binary.BigEndian.Uint16(rest))
	c.TicketID = NewTicketSpace(c.EventID).ID(c.Index)
	return c, nil
}

func lenPrefixed(b []byte) (string, []byte, bool) {
	if len(b) < 1 || len(b) < 1+int(b[0]) {
		return "", nil, false
	}
	n := int(b[0])
	return string(b[1 : 1+n]), b[1+n:], true
}

// base64URLOnly reports whether s holds only the base64url alphabet: the
// decoder skips CR and LF, and an altered code must not verify.
func base64URLOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func invalidTicket(format string, args ...any) *Error {
	return Errorf(EInvalidTicket, "invalid ticket code: "+format, args...)
}

// SeatAt returns the section, row and seat number of flat index i, in the
// order Event.Tickets lays tickets out; ok is false outside the map. A
// standing place has no row and its place number as seat.
func (m SeatMap) SeatAt(i int) (section, row string, seat int, ok bool) {
	if i < 0 {
		return "", "", 0, false
	}
	for _, s := range m.Sections {
		if i < s.Standing {
			return s.Name, "", i + 1, true
		}
		i -= s.Standing
		for _, r := range s.Rows {
			if i < r.Seats {
				return s.Name, r.Name, i + 1, true
			}
			i -= r.Seats
		}
	}
	return "", "", 0, false
}

// TicketKeysFromSeeds builds a keyring from Ed25519 seeds (32 bytes each):
// the first signs, the others only verify. Configuration and the database
// both store keys as seeds.
func TicketKeysFromSeeds(seeds ...[]byte) (*TicketKeys, error) {
	if len(seeds) == 0 {
		return nil, errors.New("ticket keys: no key")
	}
	var priv ed25519.PrivateKey
	var older []ed25519.PublicKey
	for i, s := range seeds {
		if len(s) != ed25519.SeedSize {
			return nil, fmt.Errorf("ticket keys: key %d is %d bytes, want a %d-byte Ed25519 seed", i, len(s), ed25519.SeedSize)
		}
		k := ed25519.NewKeyFromSeed(s)
		if i == 0 {
			priv = k
			continue
		}
		older = append(older, k.Public().(ed25519.PublicKey))
	}
	return NewTicketKeys(priv, older...)
}
