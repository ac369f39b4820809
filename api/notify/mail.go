package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/wneessen/go-mail"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/ticketpdf"
)

// MailConfig says how buyers are mailed.
type MailConfig struct {
	// SMTPURL is smtp://user:pass@host:port (STARTTLS when the server
	// offers it) or smtps://... (TLS from the start); empty: mails are
	// logged, not sent (BOXOFFICE_SMTP_URL unset).
	SMTPURL string
	// From is the sender address; a from= query parameter of SMTPURL
	// overrides it.
	From string
	// PublicURL is the node's public base URL, for the link to the
	// booking in the mail; empty leaves the link out.
	PublicURL string
	// Timeout bounds one SMTP conversation (dial, send): a server that
	// hangs delays only the mail queue, and the mail is retried.
	Timeout time.Duration
}

// DefaultMailConfig logs mails (no SMTP server configured).
func DefaultMailConfig() MailConfig {
	return MailConfig{From: "boxoffice <tickets@boxoffice.invalid>", Timeout: 30 * time.Second}
}

// smtpTarget is a parsed SMTPURL.
type smtpTarget struct {
	host, user, pass, from string
	port                   int
	ssl                    bool
}

// ParseSMTPURL checks an SMTP URL as BOXOFFICE_SMTP_URL takes it; the node
// refuses to start with a bad one rather than drop mails later.
func ParseSMTPURL(raw string) error {
	_, err := parseSMTP(raw)
	return err
}

func parseSMTP(raw string) (smtpTarget, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return smtpTarget{}, fmt.Errorf("smtp url: %w", err)
	}
	t := smtpTarget{host: u.Hostname(), port: 25}
	switch u.Scheme {
	case "smtp":
		t.port = 587
	case "smtps":
		t.ssl, t.port = true, 465
	default:
		return smtpTarget{}, fmt.Errorf("smtp url: scheme %q, want smtp or smtps", u.Scheme)
	}
	if t.host == "" {
		return smtpTarget{}, errors.New("smtp url: no host")
	}
	if p := u.Port(); p != "" {
		if t.port, err = strconv.Atoi(p); err != nil || t.port <= 0 || t.port > 65535 {
			return smtpTarget{}, fmt.Errorf("smtp url: bad port %q", p)
		}
	}
	if u.User != nil {
		t.user = u.User.Username()
		t.pass, _ = u.User.Password()
	}
	t.from = u.Query().Get("from")
	return t, nil
}

// MailStore is what the mailer reads: the booking, its event, venue and
// buyer, and which notices it already mailed.
type MailStore interface {
	Booking(ctx context.Context, id uuid.UUID) (boxoffice.Booking, error)
	Event(ctx context.Context, id uuid.UUID) (boxoffice.Event, error)
	Venue(ctx context.Context, id uuid.UUID) (boxoffice.Venue, error)
	User(ctx context.Context, id uuid.UUID) (boxoffice.User, error)
	// EventBuyers lists the buyers of an event's confirmed (or refunded)
	// bookings, for its cancellation mail.
	EventBuyers(ctx context.Context, eventID uuid.UUID) ([]boxoffice.User, error)
	NoticeDone(ctx context.Context, sink string, id int64) (bool, error)
	MarkNoticeDone(ctx context.Context, sink string, id int64) error
}

// Mailer mails buyers about their notices: the tickets PDF on
// booking.confirmed, a note on booking.refunded and on event.cancelled.
// Its Handle is a JetStream notice handler: delivery is at least once, and
// a notice mailed before (notice_done) is not mailed again.
type Mailer struct {
	cfg    MailConfig
	target smtpTarget
	store  MailStore
	keys   *boxoffice.TicketKeys
	log    *slog.Logger
}

// NewMailer checks cfg and returns a mailer; keys sign the tickets in the
// confirmation's PDF (nil: the mail goes without it).
func NewMailer(cfg MailConfig, store MailStore, keys *boxoffice.TicketKeys, log *slog.Logger) (*Mailer, error) {
	m := &Mailer{cfg: cfg, store: store, keys: keys, log: log}
	if cfg.SMTPURL != "" {
		t, err := parseSMTP(cfg.SMTPURL)
		if err != nil {
			return nil, err
		}
		m.target = t
	}
	if m.cfg.Timeout <= 0 {
		m.cfg.Timeout = DefaultMailConfig().Timeout
	}
	if m.target.from != "" {
		m.cfg.From = m.target.from
	}
	if m.cfg.From == "" {
		m.cfg.From = DefaultMailConfig().From
	}
	return m, nil
}

// outMail is one mail to one buyer before it is encoded.
type outMail struct {
	to, subject, body string
	pdfName           string
	pdf               []byte
}

// Handle mails the buyers of one notice; event.sold_out mails nobody.
// Errors (the SMTP server is down, the store is) have the notice delivered
// again later.
func (m *Mailer) Handle(ctx context.Context, id int64, typ string, payload []byte) error {
	var n boxoffice.Notice
	if err := json.Unmarshal(payload, &n); err != nil {
		m.log.Error("dropping a malformed notice", "notice", id, "err", err)
		return nil
	}
	n.Type = typ
	if m.cfg.SMTPURL == "" {
		if typ != boxoffice.NoticeEventSoldOut {
			// Logged, not sent: nothing is read or rendered for it.
			m.log.Info("mail not sent: BOXOFFICE_SMTP_URL is unset", "notice", typ, "id", id, "event", n.EventID, "booking", n.BookingID)
		}
		return nil
	}
	switch typ {
	case boxoffice.NoticeBookingConfirmed, boxoffice.NoticeBookingRefunded:
		return m.once(ctx, "mail", id, func() error { return m.bookingMail(ctx, n) })
	case boxoffice.NoticeEventCancelled:
		buyers, err := m.store.EventBuyers(ctx, n.EventID)
		if err != nil {
			return err
		}
		ev, err := m.store.Event(ctx, n.EventID)
		if err != nil {
			return err
		}
		for _, u := range buyers {
			err := m.once(ctx, "mail:"+u.ID.String(), id, func() error {
				return m.send(ctx, outMail{to: u.Email, subject: "Cancelled: " + ev.Name,
					body: fmt.Sprintf("Hello %s,\n\n%s on %s is cancelled. Your tickets are no longer valid; your money is refunded to the card you paid with.\n",
						nameOr(u), ev.Name, ev.StartsAt.UTC().Format("Mon 2 Jan 2006 15:04 MST"))})
			})
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// once runs send unless sink already handled notice id, and records it
// after: a crash in between mails twice, never zero times.
func (m *Mailer) once(ctx context.Context, sink string, id int64, send func() error) error {
	done, err := m.store.NoticeDone(ctx, sink, id)
	if err != nil || done {
		return err
	}
	if err := send(); err != nil {
		return err
	}
	return m.store.MarkNoticeDone(ctx, sink, id)
}

// bookingMail mails the buyer of a confirmed (with the PDF) or refunded
// booking.
func (m *Mailer) bookingMail(ctx context.Context, n boxoffice.Notice) error {
	b, err := m.store.Booking(ctx, n.BookingID)
	if err != nil {
		return err
	}
	u, err := m.store.User(ctx, b.UserID)
	if err != nil {
		return err
	}
	ev, err := m.store.Event(ctx, b.EventID)
	if err != nil {
		return err
	}
	when := ev.StartsAt.UTC().Format("Mon 2 Jan 2006 15:04 MST")
	if n.Type == boxoffice.NoticeBookingRefunded {
		return m.send(ctx, outMail{to: u.Email, subject: "Refunded: " + ev.Name,
			body: fmt.Sprintf("Hello %s,\n\nYour booking %s for %s on %s is refunded: %s %s go back to the card you paid with. Its tickets are no longer valid.\n",
				nameOr(u), b.ID, ev.Name, when, n.Total, n.Currency)})
	}
	out := outMail{to: u.Email, subject: "Your tickets: " + ev.Name,
		body: fmt.Sprintf("Hello %s,\n\nThank you for your booking %s: %d ticket(s) for %s on %s, %s %s.\nYour tickets are attached; show each QR code at the door.\n%s",
			nameOr(u), b.ID, len(b.TicketIDs), ev.Name, when, b.Total, b.Currency, m.link(b.ID))}
	if m.keys != nil {
		v, err := m.store.Venue(ctx, ev.VenueID)
		if err != nil {
			return err
		}
		pe, tickets, err := ticketpdf.ForBooking(m.keys, b, ev, v)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := ticketpdf.Render(&buf, pe, tickets, b.ConfirmedAt); err != nil {
			return err
		}
		out.pdfName, out.pdf = "tickets-"+b.ID.String()+".pdf", buf.Bytes()
	}
	return m.send(ctx, out)
}

func (m *Mailer) link(booking uuid.UUID) string {
	if m.cfg.PublicURL == "" {
		return ""
	}
	return "\nYour booking: " + strings.TrimRight(m.cfg.PublicURL, "/") + "/booking/" + booking.String() + "\n"
}

func nameOr(u boxoffice.User) string {
	if u.Name != "" {
		return u.Name
	}
	return u.Email
}

// send delivers one mail over SMTP. A buyer without an address is logged
// and skipped: retrying cannot help.
func (m *Mailer) send(ctx context.Context, o outMail) error {
	if o.to == "" {
		m.log.Warn("no e-mail address for a notice; not mailed", "subject", o.subject)
		return nil
	}
	msg := mail.NewMsg()
	if err := msg.From(m.cfg.From); err != nil {
		return fmt.Errorf("notify: from address: %w", err)
	}
	if err := msg.To(o.to); err != nil {
		m.log.Warn("bad e-mail address for a notice; not mailed", "to", o.to, "err", err)
		return nil
	}
	msg.Subject(o.subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(mail.TypeTextPlain, o.body)
	if o.pdf != nil {
		if err := msg.AttachReader(o.pdfName, bytes.NewReader(o.pdf), mail.WithFileContentType("application/pdf")); err != nil {
			return fmt.Errorf("notify: attach tickets: %w", err)
		}
	}
	c, err := m.client()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("notify: smtp %s:%d: %w", m.target.host, m.target.port, err)
	}
	return nil
}

func (m *Mailer) client() (*mail.Client, error) {
	t := m.target
	opts := []mail.Option{mail.WithPort(t.port), mail.WithTimeout(m.cfg.Timeout)}
	if t.ssl {
		opts = append(opts, mail.WithSSL())
	} else {
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	}
	if t.user != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthPlain), mail.WithUsername(t.user), mail.WithPassword(t.pass))
	}
	c, err := mail.NewClient(t.host, opts...)
	if err != nil {
		return nil, fmt.Errorf("notify: smtp client: %w", err)
	}
	return c, nil
}
