package inventory

import (
	"testing"
	"time"
)

func TestParseQuantity(t *testing.T) {
	tests := []struct {
		text  string
		scale int
		want  Quantity
		bad   bool
	}{
		{"12", 0, 12_000_000, false},
		{"12.5", 1, 12_500_000, false},
		{"-0.25", 2, -250_000, false},
		{"3.500", 1, 3_500_000, false},
		{"+3.500", 1, 0, true},
		{" 1", 0, 0, true},
		{"1 ", 0, 0, true},
		{"-.5", 2, 0, true},
		{"--1", 2, 0, true},
		{"1.5.0", 2, 0, true},
		{"٣", 0, 0, true},
		{"0.000001", 6, 1, false},
		{"007", 0, 7_000_000, false},
		{"12.5", 0, 0, true},
		{"0.001", 2, 0, true},
		{"", 2, 0, true},
		{"abc", 2, 0, true},
		{"1e3", 2, 0, true},
		{"1.", 2, 0, true},
		{".5", 2, 0, true},
		{"-", 2, 0, true},
		{"1,5", 2, 0, true},
		{"NaN", 2, 0, true},
		{"9999999999999", 0, 0, true},
		{"999999999999", 0, 999_999_999_999_000_000, false},
	}
	for _, tt := range tests {
		got, err := ParseQuantity(tt.text, tt.scale)
		if (err != nil) != tt.bad {
			t.Errorf("ParseQuantity(%q, %d) error = %v, want bad=%v", tt.text, tt.scale, err, tt.bad)
			continue
		}
		if !tt.bad && got != tt.want {
			t.Errorf("ParseQuantity(%q, %d) = %d, want %d", tt.text, tt.scale, got, tt.want)
		}
	}
}

func TestFormatQuantity(t *testing.T) {
	tests := []struct {
		q     Quantity
		scale int
		want  string
	}{
		{12_500_000, 3, "12.500"},
		{12_500_000, 0, "12.5"},
		{-250_000, 2, "-0.25"},
		{0, 2, "0.00"},
		{1, 0, "0.000001"},
		{-7_000_000, 0, "-7"},
	}
	for _, tt := range tests {
		if got := tt.q.Format(tt.scale); got != tt.want {
			t.Errorf("Format(%d, %d) = %q, want %q", tt.q, tt.scale, got, tt.want)
		}
	}
}

func TestParseAsOf(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no tz data")
	}
	got, err := ParseAsOf("as_of", "2025-12-31", berlin)
	if want := time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC).Add(-time.Microsecond); err != nil || !got.Equal(want) {
		t.Fatalf("bare date: %v %v, want %v", got, err, want)
	}
	got, err = ParseAsOf("as_of", "2025-12-31T10:00", berlin)
	if want := time.Date(2025, 12, 31, 9, 0, 0, 0, time.UTC); err != nil || !got.Equal(want) {
		t.Fatalf("local time: %v %v", got, err)
	}
	if _, err := ParseAsOf("as_of", "31/12/2025", berlin); err == nil {
		t.Fatal("accepted a foreign date format")
	}
}
