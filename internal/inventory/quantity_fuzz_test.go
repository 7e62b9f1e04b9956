package inventory_test

import (
	"encoding/json"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/stocktrail/stocktrail/internal/inventory"
)

// quantityGrammar is the one grammar of quantities (docs/CONVENTIONS.md):
// ["-"] digits ["." digits].
var quantityGrammar = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// exactMicros is the quantity text as an exact number of millionths, by
// math/big rather than by the parser under test; ok is false when the text
// has more decimals than scale allows (trailing zeros aside) or a whole
// part of more than 12 digits.
func exactMicros(text string, scale int) (micros *big.Int, ok bool) {
	r, _ := new(big.Rat).SetString(text)
	whole, frac, _ := strings.Cut(strings.TrimPrefix(text, "-"), ".")
	if len(strings.TrimRight(frac, "0")) > scale || len(strings.TrimLeft(whole, "0")) > 12 {
		return nil, false
	}
	r.Mul(r, big.NewRat(1_000_000, 1))
	return r.Num(), true
}

// FuzzParseQuantity: ParseQuantity accepts exactly the grammar within the
// unit's scale and twelve whole digits, gives the exact value, and Format
// writes text that parses back to the same quantity.
func FuzzParseQuantity(f *testing.F) {
	for _, s := range []string{"1", "-2.5", "0.000001", "999999999999.999999", "1000000000000", "007.50", "-0", "+1", "1.",
		".5", "1e3", " 1", "1,5", "١", "0.0000010", "-", ""} {
		f.Add(s, uint8(6))
		f.Add(s, uint8(0))
	}
	f.Fuzz(func(t *testing.T, text string, scaleByte uint8) {
		scale := int(scaleByte % (inventory.MaxScale + 1))
		q, err := inventory.ParseQuantity(text, scale)
		want, ok := big.NewInt(0), false
		if quantityGrammar.MatchString(text) {
			want, ok = exactMicros(text, scale)
		}
		if !ok {
			if err == nil {
				t.Fatalf("ParseQuantity(%q, %d) accepted %d outside the grammar or scale", text, scale, q)
			}
			if err.Error() == "" {
				t.Fatal("a refusal without a message")
			}
			return
		}
		if err != nil {
			t.Fatalf("ParseQuantity(%q, %d) refused a quantity of the grammar: %v", text, scale, err)
		}
		if big.NewInt(int64(q)).Cmp(want) != 0 {
			t.Fatalf("ParseQuantity(%q, %d) = %d millionths, want %s", text, scale, q, want)
		}
		shown := q.Format(scale)
		back, err := inventory.ParseQuantity(shown, scale)
		if err != nil || back != q {
			t.Fatalf("%q → %d → %q → %d, %v", text, q, shown, back, err)
		}
		if !quantityGrammar.MatchString(shown) {
			t.Fatalf("Format wrote %q, outside the grammar", shown)
		}
	})
}

// FuzzDecimalText: a quantity in a JSON body may be a string or a number;
// whenever the JSON value is a string or a number that is a valid quantity,
// DecimalText holds exactly that quantity's text, so the API reads what
// encoding/json reads.
func FuzzDecimalText(f *testing.F) {
	for _, s := range []string{`"1.5"`, `1.5`, `-2`, `"\u0031"`, `null`, `"1\/2"`, `"\ud83d\ude00"`, `1e3`, `"12"`, ` 7 `, `true`, `{}`, `"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		var d inventory.DecimalText
		derr := json.Unmarshal([]byte(raw), &d)
		var s string
		var text string
		switch {
		case json.Unmarshal([]byte(raw), &s) == nil && strings.HasPrefix(strings.TrimSpace(raw), `"`):
			text = s
		case json.Valid([]byte(raw)) && quantityGrammar.MatchString(strings.TrimSpace(raw)):
			text = strings.TrimSpace(raw) // a JSON number that is a quantity
		default:
			return // not a quantity: refused later by ParseQuantity or now by the decoder
		}
		if _, err := inventory.ParseQuantity(text, inventory.MaxScale); err != nil {
			return
		}
		if derr != nil || string(d) != text {
			t.Fatalf("JSON %s holds the quantity %q; DecimalText read %q, %v", raw, text, d, derr)
		}
	})
}
