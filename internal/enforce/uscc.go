package enforce

import (
	"errors"
	"fmt"
	"strings"

	"github.com/offsite/offsite"
)

// USCCAlphabet is the character set of GB 32100-2015 codes, in value order (no I, O, S, V, Z).
const USCCAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are the GB 32100-2015 weights of the first 17 characters.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// CheckCharError reports a USCC whose 18th character is not the GB 32100 check character of
// the first 17. It matches offsite.ErrInvalid.
type CheckCharError struct {
	USCC     string
	Got      byte
	Expected byte
}

func (e *CheckCharError) Error() string {
	return fmt.Sprintf("uscc: %q has check character %q, expected %q (GB 32100-2015); a known legacy code can be admitted with legacy_override", e.USCC, e.Got, e.Expected)
}

// Unwrap makes errors.Is(err, offsite.ErrInvalid) true.
func (e *CheckCharError) Unwrap() error { return offsite.ErrInvalid }

func asCheckCharError(err error, target **CheckCharError) bool { return errors.As(err, target) }

// USCCCheckChar returns the check character of the first 17 characters of a USCC.
func USCCCheckChar(first17 string) (byte, error) {
	if len(first17) != 17 {
		return 0, fmt.Errorf("need 17 characters, got %d", len(first17))
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(USCCAlphabet, first17[i])
		if v < 0 {
			return 0, fmt.Errorf("character %d (%q) is not in %s", i+1, first17[i], USCCAlphabet)
		}
		sum += v * usccWeights[i]
	}
	return USCCAlphabet[(31-sum%31)%31], nil
}

// CheckUSCC checks a unified social credit code: 18 characters of USCCAlphabet, positions 3–8
// an administrative division code (digits), and the GB 32100 check character last. A wrong
// check character is a *CheckCharError naming the expected one; other faults are
// *offsite.FieldError for field "uscc".
func CheckUSCC(code string) error {
	if len(code) != 18 {
		return offsite.Invalid("uscc", "%q has %d characters; a unified social credit code has 18", code, len(code))
	}
	for i := 0; i < 18; i++ {
		if strings.IndexByte(USCCAlphabet, code[i]) < 0 {
			return offsite.Invalid("uscc", "character %d of %q (%q) is not one of %s", i+1, code, code[i], USCCAlphabet)
		}
	}
	for i := 2; i < 8; i++ {
		if code[i] < '0' || code[i] > '9' {
			return offsite.Invalid("uscc", "characters 3–8 of %q must be the digits of an administrative division code", code)
		}
	}
	want, _ := USCCCheckChar(code[:17])
	if code[17] != want {
		return &CheckCharError{USCC: code, Got: code[17], Expected: want}
	}
	return nil
}

// CheckPermitNo checks a discharge permit or registration number (HJ 608-2017) against the
// enterprise's USCC: 22 characters, the first 18 the USCC (or, for a unit without one, "H9",
// the 6-digit division code of the issuing authority and 10 more digits), a 3-digit sequence
// of the fixed pollution source, and a final letter or digit.
func CheckPermitNo(permit, uscc string) error {
	if len(permit) != 22 {
		return fmt.Errorf("%q has %d characters; a permit number (HJ 608-2017) has 22: the 18-character USCC, a 3-digit sequence and a check character", permit, len(permit))
	}
	head, seq, last := permit[:18], permit[18:21], permit[21]
	switch {
	case head == uscc:
	case strings.HasPrefix(head, "H9"):
		for i := 2; i < 18; i++ {
			if head[i] < '0' || head[i] > '9' {
				return fmt.Errorf("%q starts with H9 (a unit without a USCC) but characters 3–18 are not all digits (6-digit division code and serial)", permit)
			}
		}
	default:
		return fmt.Errorf("first 18 characters %q are not the enterprise's USCC %q (nor an H9 code of a unit without a USCC)", head, uscc)
	}
	for i := 0; i < 3; i++ {
		if seq[i] < '0' || seq[i] > '9' {
			return fmt.Errorf("characters 19–21 of %q (%q) must be a 3-digit source sequence", permit, seq)
		}
	}
	if seq == "000" {
		return fmt.Errorf("source sequence of %q is 000; sequences start at 001", permit)
	}
	if !(last >= '0' && last <= '9' || last >= 'A' && last <= 'Z') {
		return fmt.Errorf("last character of %q (%q) must be a letter or digit", permit, last)
	}
	return nil
}
