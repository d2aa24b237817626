package order_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"orderhub/internal/order"
)

func TestParseMoney(t *testing.T) {
	valid := []struct {
		in     string
		fen    order.Money
		String string
	}{
		{"3", 300, "3.00"},
		{"3.5", 350, "3.50"},
		{"3.00", 300, "3.00"},
		{"-0.10", -10, "-0.10"},
		{"0.01", 1, "0.01"},
		{".5", 50, "0.50"},
		{"+2.05", 205, "2.05"},
		{" 7.1 ", 710, "7.10"},
		{"1.", 100, "1.00"},
		{"0", 0, "0.00"},
		{"-0", 0, "0.00"},
		{"999999999999999.99", 99999999999999999, "999999999999999.99"},
	}
	for _, tc := range valid {
		t.Run("valid/"+tc.in, func(t *testing.T) {
			m, err := order.ParseMoney(tc.in)
			if err != nil {
				t.Fatalf("ParseMoney(%q): unexpected error %v", tc.in, err)
			}
			if m != tc.fen {
				t.Fatalf("ParseMoney(%q) = %d fen, want %d", tc.in, m, tc.fen)
			}
			if got := m.String(); got != tc.String {
				t.Fatalf("String() = %q, want %q", got, tc.String)
			}
			// String's output parses back to the same amount.
			back, err := order.ParseMoney(m.String())
			if err != nil || back != m {
				t.Fatalf("ParseMoney(String()) = %d, %v; want %d", back, err, m)
			}
		})
	}

	invalid := []struct {
		in      string
		wantMsg string
	}{
		{"", "empty amount"},
		{"   ", "empty amount"},
		{"abc", "not a decimal amount"},
		{"1.234", "more than 2 decimal places"},
		{"1e3", "not a decimal amount"},
		{"--1", "not a decimal amount"},
		{"1.2.3", "more than 2 decimal places"},
		{"1.2.", "not a decimal amount"},
		{".", "not a decimal amount"},
		{"-", "not a decimal amount"},
		{"+", "not a decimal amount"},
		{"1,00", "not a decimal amount"},
		{"0x10", "not a decimal amount"},
		{"１.00", "not a decimal amount"}, // full-width digit
		{"1000000000000000", "too large"},
	}
	for _, tc := range invalid {
		t.Run("invalid/"+tc.in, func(t *testing.T) {
			m, err := order.ParseMoney(tc.in)
			if err == nil {
				t.Fatalf("ParseMoney(%q) = %v, want an error", tc.in, m)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Fatalf("ParseMoney(%q) error %q, want it to say %q", tc.in, err, tc.wantMsg)
			}
			if m != 0 {
				t.Fatalf("ParseMoney(%q) returned %d with its error, want 0", tc.in, m)
			}
		})
	}
}

func TestMoneyString(t *testing.T) {
	for _, tc := range []struct {
		m    order.Money
		want string
	}{
		{0, "0.00"}, {1, "0.01"}, {10, "0.10"}, {99, "0.99"}, {100, "1.00"}, {-1, "-0.01"}, {-150, "-1.50"}, {123456789, "1234567.89"},
		{-100, "-1.00"}, {math.MaxInt64, "92233720368547758.07"}, {math.MinInt64, "-92233720368547758.08"},
	} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("Money(%d).String() = %q, want %q", tc.m, got, tc.want)
		}
	}
}

func TestMoneyJSON(t *testing.T) {
	// Marshal: always a decimal string with two places.
	b, err := json.Marshal(struct {
		Total order.Money `json:"total"`
	}{1250})
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"total":"12.50"}` {
		t.Fatalf("Marshal = %s, want {\"total\":\"12.50\"}", b)
	}

	for _, tc := range []struct {
		name, in string
		want     order.Money
	}{
		{"number", `12.5`, 1250},
		{"string", `"12.50"`, 1250},
		{"integer number", `7`, 700},
		{"negative string", `"-0.10"`, -10},
		{"null", `null`, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := order.Money(99) // null must reset it
			if err := json.Unmarshal([]byte(tc.in), &m); err != nil {
				t.Fatalf("Unmarshal(%s): %v", tc.in, err)
			}
			if m != tc.want {
				t.Fatalf("Unmarshal(%s) = %d, want %d", tc.in, m, tc.want)
			}
			// Round trip: what it writes reads back the same.
			out, _ := json.Marshal(m)
			var back order.Money
			if err := json.Unmarshal(out, &back); err != nil || back != m {
				t.Fatalf("round trip via %s = %d, %v; want %d", out, back, err, m)
			}
		})
	}

	for _, in := range []string{`"1.234"`, `1e3`, `"abc"`, `true`, `""`, `12.345`} {
		t.Run("invalid "+in, func(t *testing.T) {
			var v struct {
				Items []struct {
					Price order.Money `json:"price"`
				} `json:"items"`
				Total order.Money `json:"total"`
			}
			err := json.Unmarshal([]byte(`{"total":`+in+`}`), &v)
			var te *json.UnmarshalTypeError
			if !errors.As(err, &te) {
				t.Fatalf("Unmarshal total %s: error %v (%T), want *json.UnmarshalTypeError", in, err, err)
			}
			if te.Field != "total" {
				t.Fatalf("error names field %q, want \"total\"", te.Field)
			}
			if !strings.Contains(te.Value, in) {
				t.Fatalf("error value %q does not show the bad input %s", te.Value, in)
			}
			// Nested fields are named by their path.
			err = json.Unmarshal([]byte(`{"items":[{"price":`+in+`}]}`), &v)
			if !errors.As(err, &te) || te.Field != "items.price" {
				t.Fatalf("nested: error %v, want a type error at items.price", err)
			}
		})
	}
}
