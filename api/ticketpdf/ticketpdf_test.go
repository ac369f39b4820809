package ticketpdf_test

import (
	"bytes"
	"fmt"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/boxoffice/boxoffice/api/ticketpdf"
	"github.com/boxoffice/boxoffice/api/ticketpdf/pdfscan"
)

var event = ticketpdf.Event{Name: "Alive 2026 – Théâtre night", StartsAt: time.Date(2036, 9, 1, 20, 0, 0, 0, time.UTC),
	Venue: "Olympia", Address: "28 Bd des Capucines", City: "Paris"}

func tickets(n, codeLen int) []ticketpdf.Ticket {
	out := make([]ticketpdf.Ticket, n)
	for i := range out {
		code := fmt.Sprintf("code-%d-", i)
		code += strings.Repeat("x", codeLen-len(code))
		out[i] = ticketpdf.Ticket{TicketID: fmt.Sprintf("t-%d", i), BookingID: "b-1", Section: "Stalls (left)", Row: "K",
			Seat: i + 1, Code: code}
	}
	return out
}

func TestRenderPagesScan(t *testing.T) {
	for _, codeLen := range []int{154, 258} { // the shortest and longest ticket codes
		var b bytes.Buffer
		in := tickets(3, codeLen)
		if err := ticketpdf.Render(&b, event, in, time.Unix(0, 0)); err != nil {
			t.Fatalf("Render: %v", err)
		}
		if n := pdfscan.PageCount(b.Bytes()); n != 3 {
			t.Fatalf("%d pages, want 3", n)
		}
		pages, err := pdfscan.Pages(b.Bytes())
		if err != nil {
			t.Fatalf("Pages: %v", err)
		}
		if len(pages) != 3 {
			t.Fatalf("%d page contents, want 3", len(pages))
		}
		for i, p := range pages {
			if p.QR != in[i].Code {
				t.Errorf("page %d QR = %q, want %q", i+1, p.QR, in[i].Code)
			}
			want := fmt.Sprintf("Section Stalls (left)   Row K   Seat %d", i+1)
			for _, s := range []string{want, "Olympia", "28 Bd des Capucines, Paris", "Monday 1 September 2036, 20:00 UTC"} {
				if !strings.Contains(p.Text, s) {
					t.Errorf("page %d text lacks %q:\n%s", i+1, s, p.Text)
				}
			}
		}
	}
}

func TestPNG(t *testing.T) {
	b, err := ticketpdf.PNG("hello-ticket", 256)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := pdfscan.Decode(img); err != nil || got != "hello-ticket" {
		t.Errorf("decoded %q, %v", got, err)
	}
}

// BenchmarkRenderPage measures PDF pages/s: a booking of 10 tickets with
// codes of a typical length, per page.
func BenchmarkRenderPage(b *testing.B) {
	in := tickets(10, 160)
	b.ReportAllocs()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := ticketpdf.Render(&buf, event, in, time.Unix(0, 0)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(in))/b.Elapsed().Seconds(), "pages/s")
}
