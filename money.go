package boxoffice

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is an amount in minor units (cents) so that sums of prices are
// exact; the API shows it as a decimal string with two fraction digits.
type Money int64

// String formats m as API.md requires, e.g. "149.50".
func (m Money) String() string {
	sign := ""
	v := int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// ParseMoney reads a non-negative decimal with at most two fraction digits,
// such as "149.50", "20" or "0.5". It refuses anything else rather than
// rounding, so that a price is never silently changed.
func ParseMoney(s string) (Money, error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(whole) > 12 || (hasFrac && (len(frac) == 0 || len(frac) > 2)) {
		return 0, fmt.Errorf("money %q: want a decimal like 149.50", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseUint(whole, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("money %q: want a decimal like 149.50", s)
	}
	f, err := strconv.ParseUint(frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("money %q: want a decimal like 149.50", s)
	}
	return Money(w*100 + f), nil
}

// ValidCurrency reports whether c looks like an ISO 4217 code (three
// upper-case letters); the platform does not convert between currencies.
func ValidCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for _, r := range c {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}
