package api

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// Reports (API.md Roles): GET /admin/api/events/{eventId}/report answers
// an event's figures as JSON, or with ?format=csv its sales as CSV, one
// row per ticket, streamed from the store. Reading a report changes
// nothing, so it is not audited (eventScoped audits writes only).

var errNoReports = boxoffice.Errorf(boxoffice.EUnavailable, "reports are not available on this node")

// exportTimeout bounds a CSV export: far longer than RequestTimeout, since
// a 50,000-seat event's export is megabytes to a client that may be slow.
const exportTimeout = 5 * time.Minute

// exportFlushRows is how many CSV rows are written between flushes: the
// reply leaves in chunks of this size while the query is still read.
const exportFlushRows = 512

// saleFigureJSON is a count of sales with their amount in minor units.
type saleFigureJSON struct {
	Bookings    int   `json:"bookings"`
	Tickets     int   `json:"tickets"`
	AmountMinor int64 `json:"amount_minor"`
}

type sectionReportJSON struct {
	Section  string         `json:"section"`
	Sold     saleFigureJSON `json:"sold"`
	Refunded saleFigureJSON `json:"refunded"`
}

type typeReportJSON struct {
	Type     string         `json:"type"`
	Sold     saleFigureJSON `json:"sold"`
	Refunded saleFigureJSON `json:"refunded"`
}

type promoUseJSON struct {
	Code          string `json:"code"`
	Uses          int    `json:"uses"`
	DiscountMinor int64  `json:"discount_minor"`
}

type reportBucketJSON struct {
	Start    string         `json:"start"`
	Sold     saleFigureJSON `json:"sold"`
	Refunded saleFigureJSON `json:"refunded"`
	CheckIns int            `json:"check_ins"`
}

type sectionCheckInsJSON struct {
	Section  string `json:"section"`
	CheckIns int    `json:"check_ins"`
}

type gateCheckInsJSON struct {
	Gate     string `json:"gate"`
	CheckIns int    `json:"check_ins"`
}

// reportJSON is the body of GET .../report (openapi EventReport).
type reportJSON struct {
	EventID      string              `json:"event_id"`
	Currency     string              `json:"currency"`
	Sold         saleFigureJSON      `json:"sold"`
	Refunded     saleFigureJSON      `json:"refunded"`
	RevenueMinor int64               `json:"revenue_minor"`
	FeesMinor    int64               `json:"fees_minor"`
	CheckIns     int                 `json:"check_ins"`
	BySection    []sectionReportJSON `json:"by_section"`
	ByType       []typeReportJSON    `json:"by_type"`
	PromoUses    []promoUseJSON      `json:"promo_uses"`
	Bucket       string              `json:"bucket"`
	OverTime     []reportBucketJSON  `json:"over_time"`
	// Check-ins per section and gate (h19checkin).
	CheckInsBySection []sectionCheckInsJSON `json:"check_ins_by_section"`
	CheckInsByGate    []gateCheckInsJSON    `json:"check_ins_by_gate"`
}

func figureJSON(f boxoffice.SalesFigure) saleFigureJSON {
	return saleFigureJSON{Bookings: f.Bookings, Tickets: f.Tickets, AmountMinor: int64(f.Amount)}
}

func renderReport(r boxoffice.EventReport) reportJSON {
	out := reportJSON{EventID: r.EventID.String(), Currency: r.Currency, Sold: figureJSON(r.Sold),
		Refunded: figureJSON(r.Refunded), RevenueMinor: int64(r.Revenue), FeesMinor: int64(r.Fees),
		CheckIns: r.CheckIns, Bucket: string(r.Bucket),
		BySection: make([]sectionReportJSON, 0, len(r.Sections)), ByType: make([]typeReportJSON, 0, len(r.Types)),
		PromoUses: make([]promoUseJSON, 0, len(r.PromoUses)), OverTime: make([]reportBucketJSON, 0, len(r.Buckets)),
		CheckInsBySection: make([]sectionCheckInsJSON, 0, len(r.CheckInSections)),
		CheckInsByGate:    make([]gateCheckInsJSON, 0, len(r.CheckInGates))}
	for _, s := range r.Sections {
		out.BySection = append(out.BySection, sectionReportJSON{Section: s.Section, Sold: figureJSON(s.Sold), Refunded: figureJSON(s.Refunded)})
	}
	for _, t := range r.Types {
		out.ByType = append(out.ByType, typeReportJSON{Type: t.Type, Sold: figureJSON(t.Sold), Refunded: figureJSON(t.Refunded)})
	}
	for _, p := range r.PromoUses {
		out.PromoUses = append(out.PromoUses, promoUseJSON{Code: p.Code, Uses: p.Uses, DiscountMinor: int64(p.Discount)})
	}
	for _, b := range r.Buckets {
		out.OverTime = append(out.OverTime, reportBucketJSON{Start: timeText(b.Start), Sold: figureJSON(b.Sold),
			Refunded: figureJSON(b.Refunded), CheckIns: b.CheckIns})
	}
	for _, c := range r.CheckInSections {
		out.CheckInsBySection = append(out.CheckInsBySection, sectionCheckInsJSON{Section: c.Name, CheckIns: c.CheckIns})
	}
	for _, c := range r.CheckInGates {
		out.CheckInsByGate = append(out.CheckInsByGate, gateCheckInsJSON{Gate: c.Name, CheckIns: c.CheckIns})
	}
	return out
}

// handleReport is GET /admin/api/events/{eventId}/report[?format=csv]
// [&bucket=hour|day].
func (s *Server) handleReport(w http.ResponseWriter, r *http.Request, _ boxoffice.User) error {
	id, err := pathID(r, "eventId")
	if err != nil {
		return err
	}
	q := r.URL.Query()
	bucket := boxoffice.ReportBucket(q.Get("bucket"))
	switch bucket {
	case "":
		bucket = boxoffice.BucketDay
	case boxoffice.BucketHour, boxoffice.BucketDay:
	default:
		return boxoffice.InvalidField("bucket", "bucket must be hour or day")
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		return boxoffice.InvalidField("format", "format must be json or csv")
	}
	if s.deps.Reports == nil {
		return errNoReports
	}
	if format == "csv" {
		return s.exportCSV(w, r, id)
	}
	return s.reportJSON(w, r, id, bucket)
}

func (s *Server) reportJSON(w http.ResponseWriter, r *http.Request, id uuid.UUID, bucket boxoffice.ReportBucket) error {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	rep, err := s.deps.Reports.EventReport(ctx, id, bucket)
	if err != nil {
		return err
	}
	if err := s.addCheckIns(ctx, &rep, id); err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, renderReport(rep))
	return nil
}

// addCheckIns sets the report's check-ins as the event's seat engine
// counts them (admissions live in the event's journal, not in a table):
// per section, gate and bucket from an engine that reports them
// (boxoffice.CheckInReporter, as actors.Engine does), else only the total
// from its stats.
func (s *Server) addCheckIns(ctx context.Context, rep *boxoffice.EventReport, id uuid.UUID) error {
	if cr, ok := s.deps.Engine.(boxoffice.CheckInReporter); ok {
		c, err := cr.CheckInReport(ctx, id, rep.Bucket)
		if err != nil {
			return err
		}
		rep.AddCheckIns(c)
		return nil
	}
	st, err := s.deps.Engine.Stats(ctx, id)
	if err != nil {
		return err
	}
	rep.CheckIns = st.Admitted
	return nil
}

// csvHeader names the export's columns (one row per ticket of a sale).
var csvHeader = []string{"booking_id", "user_id", "status", "confirmed_at", "refunded_at", "ticket_id",
	"section", "row", "seat", "price_minor", "currency", "booking_total_minor"}

// exportCSV streams the event's sales as CSV. The event is checked first,
// so a missing one is a JSON 404; once rows are written, a failure can
// only cut the reply short, which the client sees as a broken chunked body
// (not as a complete file).
func (s *Server) exportCSV(w http.ResponseWriter, r *http.Request, id uuid.UUID) error {
	ctx, cancel := context.WithTimeout(r.Context(), exportTimeout)
	defer cancel()
	if _, err := s.events.event(ctx, id); err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="event-`+id.String()+`-sales.csv"`)
	h.Set("Cache-Control", "no-store")
	cw := csv.NewWriter(w)
	started := false
	flush := func() error {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
		// Each chunk gets its own write deadline: a long export to a
		// client that keeps reading is not cut by WriteTimeout.
		if s.cfg.WriteTimeout > 0 {
			_ = rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		}
		return rc.Flush()
	}
	n := 0
	rec := make([]string, len(csvHeader))
	err := s.deps.Reports.EachSale(ctx, id, func(row boxoffice.SaleRow) error {
		if !started {
			started = true
			if err := cw.Write(csvHeader); err != nil {
				return err
			}
		}
		saleRecord(rec, row)
		if err := cw.Write(rec); err != nil {
			return err
		}
		if n++; n%exportFlushRows == 0 {
			return flush()
		}
		return nil
	})
	if err == nil && !started {
		err = cw.Write(csvHeader)
	}
	if err == nil {
		err = flush()
	}
	if err != nil && started {
		s.log.Warn("a CSV export was cut short", "event", id, "rows", n, "err", err)
		panic(http.ErrAbortHandler)
	}
	return err
}

// saleRecord fills rec with row's columns, in csvHeader's order.
func saleRecord(rec []string, row boxoffice.SaleRow) {
	rec[0] = row.BookingID.String()
	rec[1] = row.UserID.String()
	rec[2] = string(row.Status)
	rec[3] = timeText(row.ConfirmedAt)
	rec[4] = timeText(row.RefundedAt)
	rec[5] = row.TicketID.String()
	rec[6] = csvText(row.Section)
	rec[7] = csvText(row.Row)
	rec[8] = strconv.Itoa(row.Seat)
	rec[9] = strconv.FormatInt(int64(row.Price), 10)
	rec[10] = row.Currency
	rec[11] = strconv.FormatInt(int64(row.BookingTotal), 10)
}

// csvText defuses a cell a spreadsheet would run as a formula (an
// organiser's section named "=HYPERLINK(...)"): it is prefixed with a
// quote, as OWASP advises for CSV injection.
func csvText(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
