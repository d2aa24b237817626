package mapping

import (
	"math"
	"strings"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	tests := []struct {
		in, exact, err string
	}{
		{in: "179.0000", exact: "179"},
		{in: "179.00000000", exact: "179"},
		{in: "72.6667", exact: "72.6667"},
		{in: "-0.50", exact: "-0.5"},
		{in: "+3", exact: "3"},
		{in: ".25", exact: "0.25"},
		{in: "1.", exact: "1"},
		{in: " 12.5 ", exact: "12.5"},
		{in: "0.0000", exact: "0"},
		{in: "000123.4500", exact: "123.45"},
		{in: "123456789012345678", exact: "123456789012345678"},
		{in: "1234567890123456789", err: "more than 18 significant digits"},
		{in: "0.1234567890123456789", err: "more than 18"},
		{in: "", err: "not a decimal"},
		{in: "-", err: "not a decimal"},
		{in: ".", err: "not a decimal"},
		{in: "1e3", err: "not a decimal"},
		{in: "1,000.00", err: "not a decimal"},
		{in: "abc", err: "not a decimal"},
		{in: "1.2.3", err: "not a decimal"},
	}
	for _, tt := range tests {
		d, err := ParseDecimal(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseDecimal(%q) = %v, %v; want error containing %q", tt.in, d, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseDecimal(%q): %v", tt.in, err)
			continue
		}
		if got, _ := d.Exact(); got != tt.exact {
			t.Errorf("ParseDecimal(%q).Exact() = %q, want %q", tt.in, got, tt.exact)
		}
	}
}

func dec(t *testing.T, s string) Decimal {
	t.Helper()
	d, err := ParseDecimal(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDecimalFixedRoundsHalfAwayFromZero(t *testing.T) {
	tests := []struct {
		in     string
		places int
		want   string
	}{
		{"179", 2, "179.00"},
		{"59.665", 2, "59.67"},
		{"59.664", 2, "59.66"},
		{"-59.665", 2, "-59.67"},
		{"-0.005", 2, "-0.01"},
		{"-0.004", 2, "0.00"},
		{"0.5", 0, "1"},
		{"2.5", 0, "3"},
		{"0.0001", 4, "0.0001"},
		{"0.00005", 4, "0.0001"},
		{"12.3456", 6, "12.345600"},
		{"999999999999.995", 2, "1000000000000.00"},
	}
	for _, tt := range tests {
		got, err := dec(t, tt.in).Fixed(tt.places)
		if err != nil || got != tt.want {
			t.Errorf("Fixed(%s, %d) = %q, %v; want %q", tt.in, tt.places, got, err, tt.want)
		}
	}
}

func TestDecimalArithmeticIsExact(t *testing.T) {
	// 218.00 shared over 3 pieces: a float would print 72.66666666666667.
	q, err := dec(t, "218.0000").Div(dec(t, "3.0000"))
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := q.Fixed(2); s != "72.67" {
		t.Errorf("218/3 to 2 places = %s", s)
	}
	if _, err := q.Exact(); err == nil {
		t.Error("218/3 has an exact decimal form?")
	}
	// ×3 gives back exactly 218: nothing was rounded on the way.
	back, err := q.Mul(DecimalFromInt(3))
	if err != nil || back.Cmp(DecimalFromInt(218)) != 0 {
		t.Errorf("218/3*3 = %v, %v", back, err)
	}
	// 0.1 + 0.2 is 0.3, exactly.
	sum, _ := dec(t, "0.1").Add(dec(t, "0.2"))
	if sum.Cmp(dec(t, "0.3")) != 0 {
		t.Errorf("0.1+0.2 = %v", sum)
	}
	diff, _ := dec(t, "1.10").Sub(dec(t, "2.2"))
	if s, _ := diff.Exact(); s != "-1.1" {
		t.Errorf("1.10-2.2 = %s", s)
	}
	if _, err := dec(t, "1").Div(Decimal{}); err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Errorf("1/0: %v", err)
	}
	neg, _ := dec(t, "1").Div(dec(t, "-4"))
	if s, _ := neg.Exact(); s != "-0.25" {
		t.Errorf("1/-4 = %s", s)
	}
	big := dec(t, "999999999999999999")
	if _, err := big.Mul(big); err == nil {
		t.Error("overflow not reported")
	}
	if _, err := DecimalFromInt(math.MaxInt64 - 1).Add(DecimalFromInt(5)); err == nil {
		t.Error("overflow on add not reported")
	}
	r, _ := dec(t, "72.66666").Round(2)
	if s, _ := r.Exact(); s != "72.67" {
		t.Errorf("Round = %s", s)
	}
}

func TestDecimalCmp(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "1.0000", 0},
		{"0.1", "0.2", -1},
		{"-0.1", "-0.2", 1},
		{"-1", "1", -1},
		{"0", "-0", 0},
		{"999999999999999999", "0.000000000000000001", 1},
		{"0.333333333333333333", "0.333333333333333334", -1},
	}
	for _, tt := range tests {
		if got := dec(t, tt.a).Cmp(dec(t, tt.b)); got != tt.want {
			t.Errorf("Cmp(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
	third, _ := DecimalFromInt(1).Div(DecimalFromInt(3))
	if third.Cmp(dec(t, "0.333333333333333333")) != 1 {
		t.Error("1/3 is not above 0.333333333333333333")
	}
}

func TestDecimalRefusesJSON(t *testing.T) {
	if _, err := DecimalFromInt(1).MarshalJSON(); err == nil {
		t.Error("a Decimal marshalled without a format")
	}
}
