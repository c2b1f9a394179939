// Package derrors holds small helpers for wrapping errors.
package derrors

import "fmt"

// Wrap adds context to *errp when it is non-nil, keeping the original error for errors.Is.
// Use as the first statement of an exported method:
//
//	defer derrors.Wrap(&err, "FindCaptureByID(%d)", id)
func Wrap(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), *errp)
	}
}
