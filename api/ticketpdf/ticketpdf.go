// Package ticketpdf renders a booking's tickets as a PDF, one page per
// ticket with the event, venue, date, seat and the ticket code as a QR
// code, and a ticket code alone as a PNG QR code. The QR code is drawn in
// the PDF as filled rectangles, not as an image, so it stays sharp at any
// zoom and printer resolution.
package ticketpdf

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"time"

	"codeberg.org/go-pdf/fpdf"
	qrcode "github.com/skip2/go-qrcode"
)

// Level is the QR error correction: Medium recovers 15% of a damaged or
// smudged code and keeps the longest ticket code at QR version 13 (69x69
// modules); a typical one is version 9 (53x53).
const Level = qrcode.Medium

// Event is what every page says about the event.
type Event struct {
	Name     string
	StartsAt time.Time
	Venue    string
	Address  string
	City     string
}

// Ticket is one page: the seat and its ticket code.
type Ticket struct {
	TicketID  string
	BookingID string
	Section   string
	Row       string
	Seat      int
	Code      string
}

// Render writes the PDF of tickets to w. created stamps the document (a
// booking's confirmation time makes the bytes reproducible).
func Render(w io.Writer, ev Event, tickets []Ticket, created time.Time) error {
	f := fpdf.New("P", "mm", "A5", "")
	f.SetCreationDate(created)
	f.SetModificationDate(created)
	f.SetTitle(ev.Name+" tickets", true)
	f.SetAutoPageBreak(false, 0)
	f.SetMargins(12, 12, 12)
	tr := f.UnicodeTranslatorFromDescriptor("")
	for _, t := range tickets {
		if err := page(f, tr, ev, t); err != nil {
			return err
		}
	}
	if err := f.Error(); err != nil {
		return fmt.Errorf("ticketpdf: %w", err)
	}
	return f.Output(w)
}

// page lays out one ticket on an A5 page (148 x 210 mm).
func page(f *fpdf.Fpdf, tr func(string) string, ev Event, t Ticket) error {
	f.AddPage()
	const width = 124.0
	f.SetFont("Helvetica", "B", 18)
	f.MultiCell(width, 8, tr(ev.Name), "", "L", false)
	f.SetFont("Helvetica", "", 11)
	f.CellFormat(width, 6, tr(ev.StartsAt.UTC().Format("Monday 2 January 2006, 15:04 MST")), "", 1, "L", false, 0, "")
	f.CellFormat(width, 6, tr(ev.Venue), "", 1, "L", false, 0, "")
	f.CellFormat(width, 6, tr(joinNonEmpty(ev.Address, ev.City)), "", 1, "L", false, 0, "")
	f.Ln(4)
	f.SetFont("Helvetica", "B", 14)
	seat := "Section " + t.Section
	if t.Row != "" {
		seat += "   Row " + t.Row
	}
	if t.Seat > 0 {
		seat += "   Seat " + strconv.Itoa(t.Seat)
	}
	f.CellFormat(width, 8, tr(seat), "", 1, "L", false, 0, "")
	top := f.GetY() + 4
	if err := drawQR(f, t.Code, 29, top, 90); err != nil {
		return err
	}
	f.SetXY(12, max(176, top+92))
	f.SetFont("Helvetica", "", 7)
	f.CellFormat(width, 4, "Ticket "+t.TicketID+"   Booking "+t.BookingID, "", 1, "L", false, 0, "")
	f.SetFont("Courier", "", 6)
	f.MultiCell(width, 3, t.Code, "", "L", false)
	return nil
}

// drawQR draws code as a QR code of side mm (quiet zone included) with its
// top left corner at (x, y): one filled rectangle per run of dark modules.
func drawQR(f *fpdf.Fpdf, code string, x, y, side float64) error {
	q, err := qrcode.New(code, Level)
	if err != nil {
		return fmt.Errorf("ticketpdf: QR code: %w", err)
	}
	bm := q.Bitmap()
	m := side / float64(len(bm))
	f.SetFillColor(0, 0, 0)
	for r, row := range bm {
		for c := 0; c < len(row); {
			if !row[c] {
				c++
				continue
			}
			start := c
			for c < len(row) && row[c] {
				c++
			}
			f.Rect(x+float64(start)*m, y+float64(r)*m, float64(c-start)*m, m, "F")
		}
	}
	return nil
}

// PNG returns code as a QR code image of size x size pixels, for pages
// that show a ticket on screen.
func PNG(code string, size int) ([]byte, error) {
	q, err := qrcode.New(code, Level)
	if err != nil {
		return nil, fmt.Errorf("ticketpdf: QR code: %w", err)
	}
	var b bytes.Buffer
	if err := q.Write(size, &b); err != nil {
		return nil, fmt.Errorf("ticketpdf: QR code: %w", err)
	}
	return b.Bytes(), nil
}

func joinNonEmpty(parts ...string) string {
	out := ""
	for _, p := range parts {
		if p == "" {
			continue
		}
		if out != "" {
			out += ", "
		}
		out += p
	}
	return out
}
