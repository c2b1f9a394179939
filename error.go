package offsite

import (
	"errors"
	"fmt"
)

// Error categories. Adapters translate their driver errors into these at their edge;
// the HTTP layer maps them to status codes through one table.
var (
	ErrInvalid      = errors.New("invalid")
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrUnauthorized = errors.New("unauthorized")
	ErrForbidden    = errors.New("forbidden")
	ErrRateLimited  = errors.New("too many requests")
)

// FieldError reports a problem with one field of the input. It matches ErrInvalid.
type FieldError struct {
	Field   string // JSON path or variable name, e.g. "parcels[3].geometry"
	Problem string // what is wrong, in words a person can act on
	// Code names the sentence of the message catalog (internal/msgs) that says Problem in
	// every language, with Args (and the field) filled in; "" when Problem is the only
	// wording.
	Code string
	Args map[string]string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Unwrap() error { return ErrInvalid }

// Invalid returns a *FieldError for field with a formatted problem.
func Invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)}
}

// CodeRequired is the catalog's sentence of a missing required field (internal/msgs
// FieldRequired).
const CodeRequired = "field.required"

// Required returns a *FieldError saying field is required; format (with args) is the English
// problem, starting "is required" and saying what the field must hold.
func Required(field, format string, args ...any) error {
	return &FieldError{Field: field, Problem: fmt.Sprintf(format, args...), Code: CodeRequired}
}

// NotFound returns an error matching ErrNotFound that names what was missing.
func NotFound(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrNotFound)
}

// Conflict returns an error matching ErrConflict.
func Conflict(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), ErrConflict)
}
