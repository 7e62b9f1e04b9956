package export

import (
	"fmt"
	"strconv"
	"time"
)

// Value is one typed cell for [ValueWriter.WriteValues]: the allocation-free
// counterpart of the []any that WriteRow takes. A []any boxes every string,
// number and time.Time on the heap; a []Value of the same row can be filled
// in place and reused for every row, which matters for million-row exports.
// The zero Value is an empty cell.
type Value struct {
	kind  valueKind
	scale uint8
	s     string
	n     int64
}

type valueKind uint8

const (
	valueNull valueKind = iota
	valueString
	valueInt
	valueScaled
	valueMicros
)

// maxScaled is the largest scale Scaled accepts: 10^18 is the largest power
// of ten in an int64.
const maxScaled = 18

// Str is a Text cell, or decimal text ("-12.500") for a Number cell.
func Str(s string) Value { return Value{kind: valueString, s: s} }

// Int is an Integer or Number cell.
func Int(n int64) Value { return Value{kind: valueInt, n: n} }

// Scaled is a Number cell holding n·10^-scale, written with exactly scale
// fraction digits: Scaled(-12500, 3) is -12.500. scale is 0..18.
func Scaled(n int64, scale int) Value {
	return Value{kind: valueScaled, n: n, scale: uint8(min(max(scale, 0), maxScaled))}
}

// Micros is a Time cell: an instant given as microseconds since the Unix
// epoch (how stocktrail stores times), shown in the writer's location.
func Micros(us int64) Value { return Value{kind: valueMicros, n: us} }

// ValueWriter is a TableWriter that also takes rows as []Value. The CSV and
// XLSX writers implement it.
type ValueWriter interface {
	TableWriter
	// WriteValues writes one row, one Value per column, with the same
	// rules as WriteRow: Text cells take Str; Number cells Str holding a
	// decimal, Int or Scaled; Integer cells Int; Time cells Micros; any
	// cell the zero Value.
	WriteValues(values []Value) error
}

// checkValue reports a Value whose kind does not fit its column.
func checkValue(i int, c Column, v Value) error {
	ok := false
	switch v.kind {
	case valueNull:
		ok = true
	case valueString:
		ok = c.Kind == Text || c.Kind == Number
		if ok && c.Kind == Number && !isDecimal(v.s) {
			return invalidDecimal(i, c, v.s)
		}
	case valueInt:
		ok = c.Kind == Number || c.Kind == Integer
	case valueScaled:
		ok = c.Kind == Number
	case valueMicros:
		ok = c.Kind == Time
	}
	if !ok {
		return fmt.Errorf("export: column %d (%q, %v): unsupported value %s", i, c.Title, c.Kind, v.kindName())
	}
	return nil
}

func (v Value) kindName() string {
	switch v.kind {
	case valueString:
		return "Str"
	case valueInt:
		return "Int"
	case valueScaled:
		return "Scaled"
	case valueMicros:
		return "Micros"
	}
	return "null"
}

// pow10 holds 10^0 .. 10^18.
var pow10 = func() (p [maxScaled + 1]uint64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// appendScaled writes n·10^-scale with exactly scale fraction digits.
func appendScaled(b []byte, n int64, scale uint8) []byte {
	u := uint64(n)
	if n < 0 {
		b = append(b, '-')
		u = -u // two's complement: right for math.MinInt64 too
	}
	if scale == 0 {
		return strconv.AppendUint(b, u, 10)
	}
	p := pow10[scale]
	b = strconv.AppendUint(b, u/p, 10)
	b = append(b, '.')
	frac := u % p
	var digits [maxScaled]byte
	for i := int(scale) - 1; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(b, digits[:scale]...)
}

// scaledFloat is the float64 nearest to n·10^-scale, as strconv.ParseFloat
// would give for its decimal text: when n and 10^scale are both exact in a
// float64 one IEEE division rounds correctly; otherwise the text is parsed.
func scaledFloat(n int64, scale uint8) float64 {
	const exact = 1 << 53
	if n > -exact && n < exact && scale <= 22 {
		return float64(n) / float64(pow10[scale])
	}
	f, _ := strconv.ParseFloat(string(appendScaled(nil, n, scale)), 64)
	return f
}

// microsTime is the instant us in loc.
func microsTime(us int64, loc *time.Location) time.Time { return time.UnixMicro(us).In(loc) }
