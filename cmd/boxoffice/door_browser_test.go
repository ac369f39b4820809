package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
	"github.com/boxoffice/boxoffice/api/ticketpdf"
	"github.com/boxoffice/boxoffice/api/web"
)

// soldTicket is one ticket of GET /booking/{id}/tickets.
type soldTicket struct {
	TicketID string `json:"ticket_id"`
	Section  string `json:"section"`
	Row      string `json:"row"`
	Seat     int    `json:"seat"`
	Code     string `json:"code"`
}

// sellTickets books the stadium seats at the given layout indexes for
// buyer and returns their tickets, codes included.
func sellTickets(t *testing.T, n *testNode, buyer string, indexes ...int) []soldTicket {
	t.Helper()
	ev := stadiumEventID()
	tok := n.token(t, buyer)
	var seats struct {
		Tickets []struct {
			TicketID string `json:"ticket_id"`
		} `json:"tickets"`
	}
	if code := n.call(t, http.MethodGet, "/events/"+ev, "", nil, &seats); code != http.StatusOK {
		t.Fatalf("GET event: %d", code)
	}
	var ids []string
	for _, i := range indexes {
		ids = append(ids, seats.Tickets[i].TicketID)
	}
	var held struct {
		BookingID string `json:"booking_id"`
	}
	if code := n.call(t, http.MethodPost, "/booking/reserve", tok, map[string]any{"event_id": ev, "ticket_ids": ids}, &held); code != http.StatusCreated {
		t.Fatalf("reserve: %d", code)
	}
	if status, code := n.confirmWithKey(t, tok, "door-"+buyer, held.BookingID); status != http.StatusOK {
		t.Fatalf("confirm: %d %s", status, code)
	}
	var sold struct {
		Tickets []soldTicket `json:"tickets"`
	}
	if code := n.call(t, http.MethodGet, "/booking/"+held.BookingID+"/tickets", tok, nil, &sold); code != http.StatusOK || len(sold.Tickets) != len(indexes) {
		t.Fatalf("GET tickets: %d, %d tickets", code, len(sold.Tickets))
	}
	return sold.Tickets
}

// verdict is the door page's big answer.
type verdict struct {
	Verdict string `json:"verdict"` // admitted, refused or error
	Reason  string `json:"reason"`
	Seat    string `json:"seat"`
	Text    string `json:"text"`
	Seq     int    `json:"seq"`
}

const readVerdict = `(() => { const v = document.getElementById('verdict');
  return { verdict: v.dataset.verdict, reason: v.dataset.reason || '', seq: Number(v.dataset.seq || 0),
    seat: document.getElementById('verdict-seat').textContent, text: document.getElementById('verdict-reason').textContent }; })()`

// door drives the door page in one tab.
type door struct{ *tab }

// open loads the door page for event ev at gate and signs in as scanner.
func openDoor(t *testing.T, tb *tab, n *testNode, ev, gate, email string) door {
	t.Helper()
	d := door{tb}
	tb.do("open the door page", 20*time.Second, chromedp.Navigate(n.URL+"/door/?event="+ev))
	tb.waitFor("the page and its ticket keys", `document.body.dataset.ready === '1' && Number(document.getElementById('keys-state').dataset.keys) > 0`, 30*time.Second)
	// A loaded machine may be slow to answer; only the emulated network
	// cut may send the page down its offline path.
	eval[bool](tb, `(localStorage.setItem('boxoffice.door.checkin_timeout_ms', '120000'), true)`)
	tb.waitFor("the event's name", `document.getElementById('event-chosen').textContent.includes(`+jsString(StadiumEventName)+`)`, 30*time.Second)
	eval[bool](tb, `(() => { const g = document.getElementById('gate'); g.value = `+jsString(gate)+`; g.dispatchEvent(new Event('input')); return true; })()`)
	tb.do("sign in as scanner", 10*time.Second,
		chromedp.SetValue(chromedp.ID("signin-email"), email),
		chromedp.Click(chromedp.ID("signin-button")),
		chromedp.WaitVisible(chromedp.ID("signed-in")))
	return d
}

// scan types code and waits for the page's answer to it.
func (d door) scan(code string) verdict {
	d.t.Helper()
	before := eval[verdict](d.tab, readVerdict).Seq
	d.do("type a code", 10*time.Second,
		chromedp.SetValue(chromedp.ID("code-input"), code),
		chromedp.Click(chromedp.ID("code-button")))
	d.waitFor("the answer", fmt.Sprintf(`Number(document.getElementById('verdict').dataset.seq || 0) > %d`, before), 60*time.Second)
	return eval[verdict](d.tab, readVerdict)
}

// emulateNetworkConditions is DevTools' Network.emulateNetworkConditions,
// which cdproto no longer lists (deprecated for ...ByRule) but Chromium
// serves: it cuts the tab's requests and sets navigator.onLine with its
// online and offline events, as a door device losing its network does.
var emulateNetworkConditions = cdp.Command[networkConditions, cdp.Empty]{Method: "Network.emulateNetworkConditions"}

type networkConditions struct {
	Offline            bool    `json:"offline"`
	Latency            float64 `json:"latency"`
	DownloadThroughput float64 `json:"downloadThroughput"`
	UploadThroughput   float64 `json:"uploadThroughput"`
}

// setOffline cuts or restores the tab's network and waits until the page
// has seen it.
func (d door) setOffline(offline bool) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(d.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulateNetworkConditions, networkConditions{Offline: offline, DownloadThroughput: -1, UploadThroughput: -1}); err != nil {
		d.fail("emulate network conditions", err)
	}
	state := map[bool]string{true: "offline", false: "online"}[offline]
	d.waitFor("the page sees it is "+state, `document.getElementById('net-state').dataset.state === '`+state+`'`, 10*time.Second)
}

func jsString(s string) string { return fmt.Sprintf("%q", s) }

// forge alters one character of a code's signature: the result is well
// formed but not signed by the box office.
func forge(code string) string {
	i := len(code) - 10
	c := byte('A')
	if code[i] == 'A' {
		c = 'B'
	}
	return code[:i] + string(c) + code[i+1:]
}

// otherEvent returns code with another event id (and so a signature that
// no longer verifies).
func otherEvent(t *testing.T, code string) string {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(code)
	if err != nil {
		t.Fatal(err)
	}
	b[5] ^= 0xff
	return base64.RawURLEncoding.EncodeToString(b)
}

func seatText(tk soldTicket) string {
	return fmt.Sprintf("Section %s · Row %s · Seat %d", tk.Section, tk.Row, tk.Seat)
}

// TestDoorPage checks the door page in headless Chromium against a real
// node: a typed code is admitted and refused the second time (by this
// device and, at another gate, by the server); offline, two codes are
// verified against the cached keys and queued, a forged one is red, the
// page reloads from its service worker, and when the network returns the
// queue is synced with its gate and scan times; a ticket two offline gates
// admitted, and a revoked one admitted offline, are reported at the second
// gate's sync.
func TestDoorPage(t *testing.T) {
	n := startSeededNode(t, withTicketKey)
	ev := stadiumEventID()
	tickets := sellTickets(t, n, "dora@example.com", 900, 901, 902, 903, 904)
	// A genuine signature over a sale that does not exist: what a ticket
	// of a refunded or cancelled booking looks like to the door. Its seat
	// is ticket 0's, which the doors admit first: another sale of a seat
	// is another ticket (a refunded seat sold again is admitted afresh).
	ownKeys, err := boxoffice.TicketKeysFromSeeds(checkInSeed)
	if err != nil {
		t.Fatal(err)
	}
	revoked := resign(t, tickets[0].Code, ownKeys, uuid.New())

	shots := screenshotDir(t)
	browser := startBrowser(t)
	north := openDoor(t, newTab(t, browser, "north", shots, true), n, ev, "North", "north@example.com")

	// Online: admitted, then refused by this device's own record.
	if v := north.scan(tickets[0].Code); v.Verdict != "admitted" || v.Reason != "admitted" || v.Seat != seatText(tickets[0]) {
		t.Fatalf("first scan: %+v, want admitted at %s", v, seatText(tickets[0]))
	}
	north.screenshot("door-admitted")
	if v := north.scan(tickets[0].Code); v.Verdict != "refused" || v.Reason != "already_admitted" || !strings.Contains(v.Text, "gate North") {
		t.Fatalf("second scan: %+v, want already admitted at gate North", v)
	}
	north.screenshot("door-refused")

	if v := north.scan(revoked); v.Verdict != "refused" || v.Reason != "ticket_revoked" {
		t.Errorf("a revoked ticket: %+v, want refused as ticket_revoked", v)
	}
	// A code for another event is refused by the page itself.
	if v := north.scan(otherEvent(t, tickets[4].Code)); v.Verdict != "refused" || v.Reason != "wrong_event" {
		t.Errorf("a code of another event: %+v, want refused as wrong_event", v)
	}

	// Another gate's device, which never saw the ticket: the server refuses it.
	south := openDoor(t, newTab(t, browser, "south", shots, true), n, ev, "South", "south@example.com")
	if v := south.scan(tickets[0].Code); v.Verdict != "refused" || v.Reason != "already_admitted" || !strings.Contains(v.Text, "gate North") {
		t.Fatalf("scan at the other gate: %+v, want already admitted at gate North", v)
	}

	// The service worker has cached the page and its scripts.
	north.waitFor("the service worker controls the page and cached its files",
		`navigator.serviceWorker.controller !== null && caches.open('boxoffice-door-v1').then((c) =>
			Promise.all(['/door/', '/static/js/door.js', '/static/js/ticketcode.js', '/static/js/vendor/jsQR.js'].map((u) => c.match(u))))
			.then((rs) => rs.every(Boolean))`, 20*time.Second)

	// Offline at both gates.
	north.setOffline(true)
	south.setOffline(true)
	for _, tk := range tickets[1:3] {
		if v := north.scan(tk.Code); v.Verdict != "admitted" || v.Reason != "offline" || v.Seat != seatText(tk) {
			t.Fatalf("offline scan of %s: %+v, want admitted offline", tk.TicketID, v)
		}
	}
	if v := north.scan(tickets[1].Code); v.Verdict != "refused" || v.Reason != "already_admitted" {
		t.Errorf("offline rescan: %+v, want already admitted", v)
	}
	if v := north.scan(forge(tickets[3].Code)); v.Verdict != "refused" || v.Reason != "invalid_ticket" || !strings.Contains(v.Text, "signature") {
		t.Errorf("forged code offline: %+v, want invalid (signature)", v)
	}
	north.screenshot("door-forged-offline")
	// The South gate admits one of the same tickets while both are offline.
	if v := south.scan(tickets[2].Code); v.Verdict != "admitted" || v.Reason != "offline" {
		t.Fatalf("offline scan at South: %+v, want admitted offline", v)
	}
	// Offline, a revoked ticket's signature is genuine: admitted, until the sync.
	if v := south.scan(revoked); v.Verdict != "admitted" || v.Reason != "offline" {
		t.Fatalf("offline scan of a revoked ticket at South: %+v, want admitted offline", v)
	}

	// The page reloads with no network, its queue intact.
	north.do("reload offline", 20*time.Second, chromedp.Reload())
	north.waitFor("the page loads offline", `document.body.dataset.ready === '1'`, 30*time.Second)
	type queued struct {
		Code      string `json:"code"`
		Gate      string `json:"gate"`
		ScannedAt string `json:"scanned_at"`
	}
	queue := eval[[]queued](north.tab, `JSON.parse(localStorage.getItem('boxoffice.door.queue'))`)
	if len(queue) != 2 || queue[0].Code != tickets[1].Code || queue[1].Code != tickets[2].Code || queue[0].Gate != "North" || queue[0].ScannedAt == "" {
		t.Fatalf("queued scans %+v, want tickets 1 and 2 at North with their times", queue)
	}
	if c := eval[string](north.tab, `document.getElementById('queue-state').dataset.count`); c != "2" {
		t.Errorf("queue count shown %s, want 2", c)
	}

	// North comes back first: both scans are synced, with gate and time.
	north.setOffline(false)
	north.waitFor("the queue is synced", `document.getElementById('queue-state').dataset.count === '0'`, 60*time.Second)
	if reports := eval[[]string](north.tab, `[...document.querySelectorAll('#reports li')].map((li) => li.textContent)`); len(reports) != 0 {
		t.Errorf("North has sync reports %q, want none", reports)
	}
	scanner := n.token(t, "check@example.com", "scanner", "admin")
	for _, q := range queue {
		assertAdmittedAt(t, n, scanner, q.Code, q.Gate, q.ScannedAt)
	}

	// A scan the server admitted while its answer was lost (a timeout, a
	// dropped connection) is sent again: the page knows its own admission
	// (same gate, same scan time) and reports no conflict.
	lost := map[string]any{"code": tickets[4].Code, "gate": "North", "scanned_at": time.Now().UTC().Add(-time.Minute).Format(time.RFC3339Nano)}
	if status := n.call(t, http.MethodPost, "/checkin", scanner, lost, nil); status != http.StatusOK {
		t.Fatalf("first delivery of the lost scan: %d", status)
	}
	lost["id"] = "lost-answer"
	eval[bool](north.tab, `(() => { const q = JSON.parse(localStorage.getItem('boxoffice.door.queue'));
		q.push(`+mustJSON(t, lost)+`); localStorage.setItem('boxoffice.door.queue', JSON.stringify(q)); return true; })()`)
	north.do("sync again", 10*time.Second, chromedp.Click(chromedp.ID("sync-button")))
	north.waitFor("the resent scan is synced", `JSON.parse(localStorage.getItem('boxoffice.door.queue')).length === 0`, 60*time.Second)
	if reports := eval[[]string](north.tab, `[...document.querySelectorAll('#reports li')].map((li) => li.textContent)`); len(reports) != 0 {
		t.Errorf("a resent scan of this gate is reported as a conflict: %q", reports)
	}

	// South syncs second: its scan of ticket 2 lost, and says so.
	south.setOffline(false)
	south.waitFor("South's queue is synced", `document.getElementById('queue-state').dataset.count === '0'`, 60*time.Second)
	south.waitFor("a report of the ticket North admitted first",
		`[...document.querySelectorAll('#reports li[data-reason="already_admitted"]')].some((li) => li.textContent.includes('gate North'))`, 10*time.Second)
	south.waitFor("a report of the revoked ticket", `!!document.querySelector('#reports li[data-reason="ticket_revoked"]')`, 10*time.Second)
	south.screenshot("door-sync-report")

	for _, tb := range []*tab{north.tab, south.tab} {
		if errs := tb.pageErrors(); len(errs) > 0 {
			t.Errorf("%s page errors: %v", tb.name, errs)
		}
	}
}

// assertAdmittedAt checks with the server that code was admitted at gate
// at the time the page scanned it offline: scanning it again is
// 409 already_admitted naming that gate and time.
func assertAdmittedAt(t *testing.T, n *testNode, token, code, gate, scannedAt string) {
	t.Helper()
	var e struct {
		Error struct {
			Code    string         `json:"code"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	status := n.call(t, http.MethodPost, "/checkin", token, map[string]any{"code": code}, &e)
	if status != http.StatusConflict || e.Error.Code != "already_admitted" {
		t.Fatalf("rescan: %d %+v, want 409 already_admitted", status, e)
	}
	want, err := time.Parse(time.RFC3339Nano, scannedAt)
	if err != nil {
		t.Fatalf("scanned_at %q: %v", scannedAt, err)
	}
	at, _ := e.Error.Details["scanned_at"].(string)
	got, err := time.Parse(time.RFC3339Nano, at)
	if err != nil || !got.Equal(want) || e.Error.Details["gate"] != gate {
		t.Errorf("admitted record %+v, want gate %q scanned at %s (the offline scan)", e.Error.Details, gate, scannedAt)
	}
}

// TestDoorCamera scans a ticket through the camera: Chromium's fake
// capture device plays a Y4M video of the ticket's QR code, which the page
// reads with the vendored jsQR.
func TestDoorCamera(t *testing.T) {
	n := startSeededNode(t)
	ev := stadiumEventID()
	tk := sellTickets(t, n, "cam@example.com", 950)[0]
	video := filepath.Join(t.TempDir(), "ticket.y4m")
	writeQRVideo(t, video, tk.Code)

	browser := startBrowser(t,
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("use-file-for-fake-video-capture", video))
	// A gate name over the server's 64 bytes, with a control character:
	// the page sends what the server accepts rather than lose the scan.
	gate := "East\t" + strings.Repeat("ö", 40)
	d := openDoor(t, newTab(t, browser, "camera", screenshotDir(t), false), n, ev, gate, "east@example.com")
	d.do("start the camera", 10*time.Second, chromedp.Click(chromedp.ID("camera-button")))
	d.waitFor("the camera's code is admitted", `document.getElementById('verdict').dataset.verdict === 'admitted'`, 60*time.Second)
	d.screenshot("door-camera")
	if v := eval[verdict](d.tab, readVerdict); v.Reason != "admitted" || v.Seat != seatText(tk) || v.Seq != 1 {
		t.Errorf("camera scan: %+v, want one scan admitted at %s", v, seatText(tk))
	}
	if errs := d.pageErrors(); len(errs) > 0 {
		t.Errorf("page errors: %v", errs)
	}
}

// writeQRVideo writes a short Y4M video (4:2:0, full-range) of code's QR
// code, black on white, centred in a 640x480 frame.
func writeQRVideo(t *testing.T, path, code string) {
	t.Helper()
	const w, h = 640, 480
	pngData, err := ticketpdf.PNG(code, 440)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(pngData))
	if err != nil {
		t.Fatal(err)
	}
	luma := bytes.Repeat([]byte{255}, w*h)
	b := img.Bounds()
	x0, y0 := (w-b.Dx())/2, (h-b.Dy())/2
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			luma[(y0+y-b.Min.Y)*w+x0+x-b.Min.X] = color.GrayModel.Convert(img.At(x, y)).(color.Gray).Y
		}
	}
	chroma := bytes.Repeat([]byte{128}, w/2*h/2)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	out := bufio.NewWriter(f)
	fmt.Fprintf(out, "YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n", w, h)
	for range 10 {
		out.WriteString("FRAME\n")
		out.Write(luma)
		out.Write(chroma)
		out.Write(chroma)
	}
	if err := out.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDoorVerifierMatchesGo feeds the same codes to the root package's
// VerifyTicketCode and to the door page's ticketcode.js (in Chromium,
// WebCrypto Ed25519): both must accept exactly the same codes and read the
// same fields from them, or a door offline would admit what the server
// refuses, or refuse a real ticket.
func TestDoorVerifierMatchesGo(t *testing.T) {
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	priv := ed25519.NewKeyFromSeed(seed)
	pub := priv.Public().(ed25519.PublicKey)
	keys, err := boxoffice.TicketKeysFromSeeds(seed)
	if err != nil {
		t.Fatal(err)
	}
	other, err := boxoffice.TicketKeysFromSeeds(bytes.Repeat([]byte{9}, ed25519.SeedSize))
	if err != nil {
		t.Fatal(err)
	}
	ev, booking := uuid.MustParse("0b1e2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"), uuid.MustParse("5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a")
	base := boxoffice.TicketCode{EventID: ev, BookingID: booking, Index: 70000, Section: "A", Row: "1", Seat: 5,
		IssuedAt: time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC)}
	sign := func(c boxoffice.TicketCode, k *boxoffice.TicketKeys) string {
		t.Helper()
		code, err := k.Sign(c)
		if err != nil {
			t.Fatal(err)
		}
		return code
	}
	// raw signs arbitrary bytes with the key, for bodies Sign never makes.
	raw := func(body []byte) string {
		return base64.RawURLEncoding.EncodeToString(append(body, ed25519.Sign(priv, body)...))
	}
	valid := sign(base, keys)
	validBytes, _ := base64.RawURLEncoding.DecodeString(valid)
	body := validBytes[:len(validBytes)-ed25519.SignatureSize]
	long := base
	long.Section, long.Row, long.Seat = strings.Repeat("é", 32), "Ränge 1234567890", 65535
	ga := base
	ga.Section, ga.Row, ga.Seat = "Floor", "", 0
	flipped := append([]byte(nil), validBytes...)
	flipped[30] ^= 1
	v2 := append([]byte(nil), body...)
	v2[0] = 2
	// The last character of a 115-byte code carries 2 bits and 4 unused
	// ones; setting an unused one keeps the bytes but not the strict text.
	alphabet := "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, valid[len(valid)-1])
	sloppy := valid[:len(valid)-1] + string(alphabet[last|1])
	overrun := append([]byte(nil), body...)
	overrun[45] = 200

	cases := map[string]string{
		"valid":                   valid,
		"long names":              sign(long, keys),
		"general admission":       sign(ga, keys),
		"empty":                   "",
		"truncated":               valid[:len(valid)-4],
		"an altered byte":         base64.RawURLEncoding.EncodeToString(flipped),
		"version 2":               raw(v2),
		"an unknown key":          sign(base, other),
		"unused bits set":         sloppy,
		"padding":                 valid + "==",
		"a line break":            valid[:50] + "\n" + valid[50:],
		"standard base64":         strings.NewReplacer("-", "+", "_", "/").Replace(valid) + "+/",
		"a trailing byte, signed": raw(append(append([]byte(nil), body...), 0)),
		"a section that overruns": raw(overrun),
		"too long":                strings.Repeat("A", boxoffice.MaxTicketCodeLen+4),
		"spaces around":           " " + valid + " ",
	}
	type parsed struct {
		OK      bool   `json:"ok"`
		EventID string `json:"eventId"`
		Booking string `json:"bookingId"`
		Index   int    `json:"index"`
		Section string `json:"section"`
		Row     string `json:"row"`
		Seat    int    `json:"seat"`
		Issued  int64  `json:"issued"`
		KeyID   string `json:"keyId"`
	}
	lookup := func(kid [4]byte) ed25519.PublicKey {
		if boxoffice.TicketKeyID(pub) == hex.EncodeToString(kid[:]) {
			return pub
		}
		return nil
	}

	srv := httptest.NewServer(web.Handler())
	t.Cleanup(srv.Close)
	tb := newTab(t, startBrowser(t), "verifier", screenshotDir(t), false)
	tb.do("open the door page", 20*time.Second, chromedp.Navigate(srv.URL+"/door/"))
	jwks := mustJSON(t, map[string]any{"keys": []map[string]string{{"kty": "OKP", "crv": "Ed25519", "x": base64.RawURLEncoding.EncodeToString(pub)}}})
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]parsed](`import('/static/js/ticketcode.js').then(async (m) => {
		const ring = await m.KeyRing.fromJWKS(`+jwks+`);
		const out = {};
		for (const [name, code] of Object.entries(`+mustJSON(t, cases)+`)) {
			try {
				const c = await ring.verify(code);
				out[name] = { ok: true, eventId: c.eventId, bookingId: c.bookingId, index: c.index, section: c.section,
					row: c.row, seat: c.seat, issued: c.issuedAt.getTime() / 1000, keyId: c.keyId };
			} catch (e) {
				if (!(e instanceof m.InvalidCode)) throw e;
				out[name] = { ok: false };
			}
		}
		return out;
	})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("verify in the browser: %v", err)
	}
	for name, code := range cases {
		// POST /checkin trims the code before verifying it; so does the page.
		c, err := boxoffice.VerifyTicketCode(strings.TrimSpace(code), lookup)
		want := parsed{OK: err == nil}
		if err == nil {
			want = parsed{OK: true, EventID: c.EventID.String(), Booking: c.BookingID.String(), Index: c.Index,
				Section: c.Section, Row: c.Row, Seat: c.Seat, Issued: c.IssuedAt.Unix(), KeyID: c.KeyID}
		}
		if got[name] != want {
			t.Errorf("%s: the page reads %+v, Go reads %+v (Go's error: %v)", name, got[name], want, err)
		}
	}
	if !got["valid"].OK || !got["long names"].OK || got["an altered byte"].OK {
		t.Errorf("the verdicts themselves are wrong: %+v", got)
	}
}
