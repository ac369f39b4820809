package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/boxoffice/boxoffice"
)

// DecodeJSON reads r's body into v with API.md's rules: at most limit
// bytes (413 too_large), no unknown fields, field names spelled exactly
// (encoding/json alone would take "EVENT_ID" for "event_id"), no key twice
// in one object (encoding/json alone keeps the last), exactly one JSON
// value, and every failure a 400 invalid_argument naming the field in
// details.field. Plugs use it so that their bodies are judged like the API's.
func DecodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		return decodeError(err)
	}
	if err := decodeStrict(body, v); err != nil {
		return err
	}
	return nil
}

// decodeStrict is DecodeJSON on a body already read.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	// One value only: "{}{}" or "{} x" is a malformed body, not a prefix
	// to act on.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if tooLarge(err) {
			return decodeError(err)
		}
		return boxoffice.InvalidField("body", "the body must hold exactly one JSON object")
	}
	// The body is valid JSON now, so the scan needs no error handling of
	// its own beyond what it looks for.
	sc := strictScanner{b: body}
	return sc.value(reflect.TypeOf(v), "")
}

// decodeError turns an encoding/json or body-reading error into the API
// error a caller can act on.
func decodeError(err error) error {
	var (
		typeErr   *json.UnmarshalTypeError
		syntaxErr *json.SyntaxError
	)
	switch {
	case tooLarge(err):
		return boxoffice.Errorf(boxoffice.ETooLarge, "the body is larger than the limit")
	case errors.Is(err, io.EOF):
		return boxoffice.InvalidField("body", "the body is empty; want a JSON object")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return boxoffice.InvalidField("body", "the body must be a JSON object")
		}
		return boxoffice.InvalidField(field, "%s must be of type %s", field, jsonType(typeErr.Type.Kind().String()))
	case errors.As(err, &syntaxErr), errors.Is(err, io.ErrUnexpectedEOF):
		return boxoffice.InvalidField("body", "the body is not valid JSON")
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		field, uerr := strconv.Unquote(name)
		if uerr != nil || !printable(field) {
			field = "body"
		}
		return boxoffice.InvalidField(field, "unknown field %q", field)
	}
	return boxoffice.InvalidField("body", "the body could not be decoded")
}

func tooLarge(err error) bool {
	var mb *http.MaxBytesError
	return errors.As(err, &mb)
}

// jsonType names a Go kind the way a JSON client thinks of it.
func jsonType(kind string) string {
	switch kind {
	case "string":
		return "string"
	case "slice", "array":
		return "array"
	case "struct", "map", "ptr":
		return "object"
	case "bool":
		return "boolean"
	}
	return "number"
}

// printable keeps control characters and absurd lengths out of details.
func printable(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}

// parseID reads a UUID in the RFC 4122 text form API.md promises
// (36 characters, hyphenated); other spellings uuid.Parse would take
// (braces, urn:uuid:, no hyphens) are rejected so that one ID has one text.
func parseID(field, s string) (uuid.UUID, error) {
	if len(s) != 36 {
		return uuid.Nil, boxoffice.InvalidField(field, "%s must be a UUID", field)
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, boxoffice.InvalidField(field, "%s must be a UUID", field)
	}
	return id, nil
}

// pathID reads a UUID path segment such as {eventId}.
func pathID(r *http.Request, name string) (uuid.UUID, error) {
	return parseID(name, r.PathValue(name))
}

// optionalID reads an optional client-chosen "id"; empty means "pick one".
func optionalID(s string) (uuid.UUID, error) {
	if s == "" {
		return uuid.Nil, nil
	}
	return parseID("id", s)
}
