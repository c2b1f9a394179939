package detect

import "fmt"

// ParamError reports an invalid detector parameter by its pipeline (YAML) name.
type ParamError struct {
	Field   string // e.g. "probability" or "limits.pm25"
	Problem string // e.g. "must be in (0,1)"
}

func (e *ParamError) Error() string { return fmt.Sprintf("detect: %s: %s", e.Field, e.Problem) }

func open01(field string, v float64) error {
	if !(v > 0 && v < 1) {
		return &ParamError{field, "must be in (0,1)"}
	}
	return nil
}

func positive(field string, v float64) error {
	if !(v > 0) {
		return &ParamError{field, "must be > 0"}
	}
	return nil
}

func greater(field string, v, lo float64) error {
	if !(v > lo) {
		return &ParamError{field, fmt.Sprintf("must be > %g", lo)}
	}
	return nil
}

func nonNegative(field string, v float64) error {
	if !(v >= 0) {
		return &ParamError{field, "must be >= 0"}
	}
	return nil
}

func atLeast(field string, v, lo int) error {
	if v < lo {
		return &ParamError{field, fmt.Sprintf("must be >= %d", lo)}
	}
	return nil
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
