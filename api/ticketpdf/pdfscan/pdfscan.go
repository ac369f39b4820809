// Package pdfscan reads back what a ticket PDF shows, for tests: each
// page's text and the content of its QR code, decoded from the drawn
// rectangles by a QR reader (gozxing), as a phone at the door would. It
// understands the PDFs package ticketpdf writes (fpdf's core-font text and
// filled rectangles), not PDF in general. Only tests import it.
package pdfscan

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"image"
	"image/color"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// Page is what one page of the PDF shows.
type Page struct {
	// Text is the page's text strings, one a line, in drawing order.
	Text string
	// QR is the decoded content of the page's QR code ("" when none).
	QR string
}

var (
	pageRe   = regexp.MustCompile(`/Type /Page\b[^s]`)
	streamRe = regexp.MustCompile(`<<([^>]*)>>\s*stream\r?\n`)
	lengthRe = regexp.MustCompile(`/Length (\d+)`)
	rectRe   = regexp.MustCompile(`(?m)^(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) re f$`)
	textRe   = regexp.MustCompile(`\(((?:[^()\\]|\\.)*)\) ?Tj`)
)

// PageCount counts the page objects of pdf.
func PageCount(pdf []byte) int { return len(pageRe.FindAll(pdf, -1)) }

// Pages returns every page's text and QR content, in page order.
func Pages(pdf []byte) ([]Page, error) {
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return nil, errors.New("pdfscan: not a PDF")
	}
	var out []Page
	for _, m := range streamRe.FindAllSubmatchIndex(pdf, -1) {
		// The stream is exactly /Length bytes: compressed data may end in
		// a byte that looks like a line break, so searching for the
		// "endstream" that follows it cut one in about two hundred short.
		dict := pdf[m[2]:m[3]]
		l := lengthRe.FindSubmatch(dict)
		if l == nil {
			return nil, errors.New("pdfscan: a stream without /Length")
		}
		n, err := strconv.Atoi(string(l[1]))
		if err != nil || m[1]+n > len(pdf) {
			return nil, fmt.Errorf("pdfscan: bad stream /Length %q", l[1])
		}
		content := pdf[m[1] : m[1]+n]
		m := [][]byte{nil, dict}
		if bytes.Contains(m[1], []byte("/FlateDecode")) {
			r, err := zlib.NewReader(bytes.NewReader(content))
			if err != nil {
				return nil, fmt.Errorf("pdfscan: inflate: %w", err)
			}
			if content, err = io.ReadAll(r); err != nil {
				return nil, fmt.Errorf("pdfscan: inflate: %w", err)
			}
		}
		if !bytes.Contains(content, []byte("Tj")) {
			continue // not a page's content
		}
		p := Page{Text: pageText(content)}
		if rects := rectRe.FindAllSubmatch(content, -1); len(rects) > 0 {
			qr, err := decodeQR(rects)
			if err != nil {
				return nil, fmt.Errorf("pdfscan: page %d: %w", len(out)+1, err)
			}
			p.QR = qr
		}
		out = append(out, p)
	}
	return out, nil
}

func pageText(content []byte) string {
	var lines []string
	for _, m := range textRe.FindAllSubmatch(content, -1) {
		s := string(m[1])
		s = strings.NewReplacer(`\\`, `\`, `\(`, `(`, `\)`, `)`).Replace(s)
		lines = append(lines, s)
	}
	return strings.Join(lines, "\n")
}

// decodeQR reads the QR code the rectangles draw. Each rectangle is a run
// of dark modules in one row, so the picture is rebuilt on the module grid
// (the module is the rectangles' height), 8 pixels a module with a quiet
// zone of 4 modules: painting the page's coordinates, rounded to pixels,
// left hairline gaps between rows that made about one code in three
// hundred unreadable, while the code itself was sound.
func decodeQR(rects [][][]byte) (string, error) {
	type box struct{ x0, y0, x1, y1 float64 }
	var boxes []box
	minX, maxY, module := math.Inf(1), math.Inf(-1), math.Inf(1)
	for _, r := range rects {
		var v [4]float64
		for i := range v {
			f, err := strconv.ParseFloat(string(r[i+1]), 64)
			if err != nil {
				return "", err
			}
			v[i] = f
		}
		b := box{math.Min(v[0], v[0]+v[2]), math.Min(v[1], v[1]+v[3]), math.Max(v[0], v[0]+v[2]), math.Max(v[1], v[1]+v[3])}
		boxes = append(boxes, b)
		minX, maxY, module = math.Min(minX, b.x0), math.Max(maxY, b.y1), math.Min(module, b.y1-b.y0)
	}
	if len(boxes) == 0 || module <= 0 {
		return "", fmt.Errorf("no QR code found: no modules drawn")
	}
	const px, quiet = 8, 4
	size := 0
	type run struct{ row, c0, c1 int }
	runs := make([]run, 0, len(boxes))
	for _, b := range boxes {
		// PDF y grows upwards; rows count downwards from the top.
		r := run{int(math.Round((maxY - b.y1) / module)), int(math.Round((b.x0 - minX) / module)), int(math.Round((b.x1 - minX) / module))}
		runs = append(runs, r)
		size = max(size, r.row+1, r.c1)
	}
	side := (size + 2*quiet) * px
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for _, r := range runs {
		for y := (r.row + quiet) * px; y < (r.row+quiet+1)*px; y++ {
			for x := (r.c0 + quiet) * px; x < (r.c1+quiet)*px; x++ {
				img.SetGray(x, y, color.Gray{})
			}
		}
	}
	return Decode(img)
}

// Decode reads the QR code in img.
func Decode(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	// The picture holds the code alone on white, so it is read as a pure
	// barcode (module by module, from its corners) first: the finder-pattern
	// detector misreads the format bits of about one random code in sixty.
	// The detector stays as the fallback for photographs and scans.
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_PURE_BARCODE: true})
	if err != nil {
		res, err = qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	}
	if err != nil {
		return "", fmt.Errorf("no QR code found: %w", err)
	}
	return res.GetText(), nil
}
