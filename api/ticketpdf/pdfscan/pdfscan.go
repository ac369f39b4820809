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
	streamRe = regexp.MustCompile(`(?s)<<([^>]*)>>\s*stream\r?\n(.*?)\r?\nendstream`)
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
	for _, m := range streamRe.FindAllSubmatch(pdf, -1) {
		content := m[2]
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

// decodeQR paints the rectangles black on white at 4 pixels a point, with
// a margin, and reads the QR code in the picture.
func decodeQR(rects [][][]byte) (string, error) {
	type box struct{ x0, y0, x1, y1 float64 }
	var boxes []box
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
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
		minX, minY, maxX, maxY = math.Min(minX, b.x0), math.Min(minY, b.y0), math.Max(maxX, b.x1), math.Max(maxY, b.y1)
	}
	const scale, margin = 4.0, 40
	w, h := int((maxX-minX)*scale)+2*margin, int((maxY-minY)*scale)+2*margin
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	for _, b := range boxes {
		// PDF y grows upwards; the image's downwards.
		x0, x1 := int(math.Round((b.x0-minX)*scale))+margin, int(math.Round((b.x1-minX)*scale))+margin
		y0, y1 := int(math.Round((maxY-b.y1)*scale))+margin, int(math.Round((maxY-b.y0)*scale))+margin
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
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
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		return "", fmt.Errorf("no QR code found: %w", err)
	}
	return res.GetText(), nil
}
