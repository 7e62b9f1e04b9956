package inventory

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Quantity is an exact decimal amount of stock in micro-units: the value
// times 10^6, so 12.5 is 12_500_000.
//
// Why a fixed global scale in an int64 rather than NUMERIC or a decimal
// library: the same BIGINT column type exists on SQLite and PostgreSQL, and
// SUM over it is exact on both (SQLite has no exact NUMERIC; its REAL would
// round). Six decimals cover every unit we meet (grams of a kilogram,
// millilitres of a litre, with room to spare), and the range, ±9.2·10^12
// units, exceeds any physical stock. An item's unit declares how many of the
// six decimals it allows (its scale, 0..6), enforced when text is parsed;
// quantities are only ever parsed from and formatted to decimal text, never
// passed through float64.
type Quantity int64

// QuantityScale is the number of decimals every stored quantity carries.
const QuantityScale = 6

const microsPerUnit = 1_000_000

// MaxScale is the largest precision a unit may declare.
const MaxScale = QuantityScale

// ParseQuantity reads a quantity in the one decimal grammar of the
// product, the same in forms, the API, imports and query filters:
//
//	quantity = ["-"] digits ["." digits]     digits = 1*("0"-"9")
//
// so "12", "-0.25" and "3.500" are quantities, and " 1", "+1", ".5", "1.",
// "1e3" and "1,5" are not (each could be read two ways by two programs).
// At most scale decimals are allowed; trailing zeros beyond scale are
// accepted ("3.500" for a scale of 1) because they do not change the value.
func ParseQuantity(text string, scale int) (Quantity, error) {
	s := text
	if s == "" {
		return 0, fmt.Errorf("required")
	}
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	whole, frac, hasPoint := strings.Cut(s, ".")
	if whole == "" || !digitsOnly(whole) || !digitsOnly(frac) || (hasPoint && frac == "") {
		return 0, fmt.Errorf("must be a decimal number such as 12 or 3.5 (digits, an optional point with digits after it, no spaces or signs but a leading -)")
	}
	trimmed := strings.TrimRight(frac, "0")
	if len(trimmed) > scale {
		if scale == 0 {
			return 0, fmt.Errorf("must be a whole number for this unit")
		}
		return 0, fmt.Errorf("at most %d decimals for this unit", scale)
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > 12 {
		return 0, fmt.Errorf("too large")
	}
	var w int64
	if whole != "" {
		w, _ = strconv.ParseInt(whole, 10, 64)
	}
	var f int64
	if trimmed != "" {
		f, _ = strconv.ParseInt(trimmed+strings.Repeat("0", QuantityScale-len(trimmed)), 10, 64)
	}
	v := w*microsPerUnit + f
	if neg {
		v = -v
	}
	return Quantity(v), nil
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Format writes q with exactly scale decimals (rounding never happens for
// values that respected the scale; a larger stored precision is kept).
func (q Quantity) Format(scale int) string {
	v := int64(q)
	neg := v < 0
	var u uint64
	if neg {
		u = uint64(-(v + 1)) + 1 // safe for math.MinInt64
	} else {
		u = uint64(v)
	}
	whole, frac := u/microsPerUnit, u%microsPerUnit
	digits := fmt.Sprintf("%06d", frac)
	// Never hide digits that are there, even if the unit's scale shrank.
	for scale < QuantityScale && digits[scale:] != strings.Repeat("0", QuantityScale-scale) {
		scale++
	}
	out := strconv.FormatUint(whole, 10)
	if scale > 0 {
		out += "." + digits[:scale]
	}
	if neg {
		out = "-" + out
	}
	return out
}

// String formats q with as few decimals as it needs.
func (q Quantity) String() string { return q.Format(0) }

// add returns q+d, reporting overflow.
func (q Quantity) add(d Quantity) (Quantity, bool) {
	if (d > 0 && q > math.MaxInt64-d) || (d < 0 && q < math.MinInt64-d) {
		return 0, false
	}
	return q + d, true
}

// DecimalText is a quantity as a client sent it: a JSON string or a JSON
// number, kept as its literal text so it is parsed exactly (never through
// float64) once the item's scale is known.
type DecimalText string

// UnmarshalJSON keeps the literal text of a JSON number or string.
func (d *DecimalText) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		var unq string
		var err error
		if unq, err = strconv.Unquote(s); err != nil {
			return fmt.Errorf("quantity must be a decimal string or number")
		}
		*d = DecimalText(unq)
		return nil
	}
	if s == "null" {
		*d = ""
		return nil
	}
	*d = DecimalText(s)
	return nil
}

// MarshalJSON writes q as a decimal string with as few decimals as it needs,
// so JSON clients never see a float.
func (q Quantity) MarshalJSON() ([]byte, error) { return []byte(`"` + q.String() + `"`), nil }
