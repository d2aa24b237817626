package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
)

// Decimal is an exact rational number, num/den in lowest terms with den > 0.
// Amounts and quantities from a source document are decimal strings
// ("179.0000"); holding them as a fraction of two integers keeps every sum,
// product and quotient exact, so rounding happens once, when a value is
// formatted for the target (money, fixed, num), and never through a float.
//
// The zero value is 0. Numbers whose numerator or denominator would leave
// int64 are refused with an error rather than rounded.
type Decimal struct {
	num, den int64 // den == 0 in the zero value means 1
}

var errOverflow = errors.New("the number is too large for exact arithmetic")

func (d Decimal) parts() (int64, int64) {
	if d.den == 0 {
		return d.num, 1
	}
	return d.num, d.den
}

// Sign is -1, 0 or +1.
func (d Decimal) Sign() int {
	switch {
	case d.num < 0:
		return -1
	case d.num > 0:
		return 1
	}
	return 0
}

// IsZero reports whether d is 0.
func (d Decimal) IsZero() bool { return d.num == 0 }

// pow10 holds 10^0 … 10^18, every power of ten an int64 can hold.
var pow10 = func() [19]int64 {
	var p [19]int64
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

// ParseDecimal reads a plain decimal number: an optional sign, digits, and
// an optional fraction ("179.0000", "-0.5", "+3", ".25"). Spaces around it are
// ignored. Exponents, thousands separators and empty text are errors.
func ParseDecimal(s string) (Decimal, error) {
	t := strings.TrimSpace(s)
	neg := false
	if t != "" && (t[0] == '-' || t[0] == '+') {
		neg = t[0] == '-'
		t = t[1:]
	}
	whole, frac, _ := strings.Cut(t, ".")
	if whole == "" && frac == "" {
		return Decimal{}, fmt.Errorf("%q is not a decimal number", s)
	}
	// Trailing zeros of the fraction carry no value ("179.0000").
	frac = strings.TrimRight(frac, "0")
	if len(frac) > 18 {
		return Decimal{}, fmt.Errorf("%q has more than 18 decimal places", s)
	}
	var num int64
	digits := 0
	for _, part := range [2]string{whole, frac} {
		for i := 0; i < len(part); i++ {
			c := part[i]
			if c < '0' || c > '9' {
				return Decimal{}, fmt.Errorf("%q is not a decimal number", s)
			}
			if num == 0 && c == '0' {
				continue // leading zeros cost no precision
			}
			digits++
			if digits > 18 {
				return Decimal{}, fmt.Errorf("%q has more than 18 significant digits", s)
			}
			num = num*10 + int64(c-'0')
		}
	}
	if neg {
		num = -num
	}
	scale := len(frac)
	return makeDecimal(num, pow10[scale])
}

// makeDecimal reduces num/den (den > 0) to lowest terms.
func makeDecimal(num, den int64) (Decimal, error) {
	if den <= 0 {
		return Decimal{}, errors.New("division by zero")
	}
	if num == 0 {
		return Decimal{}, nil
	}
	if g := gcd(abs64(num), den); g > 1 {
		num /= g
		den /= g
	}
	return Decimal{num: num, den: den}, nil
}

// DecimalFromInt is n as a Decimal.
func DecimalFromInt(n int64) Decimal { return Decimal{num: n, den: 1} }

func abs64(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// gcd of two non-negative numbers, Stein's binary algorithm.
func gcd(a, b int64) int64 {
	if a == 0 {
		return b
	}
	if b == 0 {
		return a
	}
	ua, ub := uint64(a), uint64(b)
	shift := bits.TrailingZeros64(ua | ub)
	ua >>= bits.TrailingZeros64(ua)
	for ub != 0 {
		ub >>= bits.TrailingZeros64(ub)
		if ua > ub {
			ua, ub = ub, ua
		}
		ub -= ua
	}
	return int64(ua << shift)
}

// mul multiplies with an overflow check.
func mul(a, b int64) (int64, error) {
	if a == 0 || b == 0 {
		return 0, nil
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, errOverflow
	}
	return c, nil
}

func add(a, b int64) (int64, error) {
	c := a + b
	if (c > a) != (b > 0) {
		return 0, errOverflow
	}
	return c, nil
}

// Add returns d + e.
func (d Decimal) Add(e Decimal) (Decimal, error) {
	an, ad := d.parts()
	bn, bd := e.parts()
	g := gcd(ad, bd)
	x, err := mul(an, bd/g)
	if err != nil {
		return Decimal{}, err
	}
	y, err := mul(bn, ad/g)
	if err != nil {
		return Decimal{}, err
	}
	n, err := add(x, y)
	if err != nil {
		return Decimal{}, err
	}
	den, err := mul(ad/g, bd)
	if err != nil {
		return Decimal{}, err
	}
	return makeDecimal(n, den)
}

// Neg returns -d.
func (d Decimal) Neg() Decimal { return Decimal{num: -d.num, den: d.den} }

// Sub returns d - e.
func (d Decimal) Sub(e Decimal) (Decimal, error) { return d.Add(e.Neg()) }

// Mul returns d × e.
func (d Decimal) Mul(e Decimal) (Decimal, error) {
	an, ad := d.parts()
	bn, bd := e.parts()
	// Cross-reduce first so exact results with large intermediate terms fit.
	if g := gcd(abs64(an), bd); g > 1 {
		an, bd = an/g, bd/g
	}
	if g := gcd(abs64(bn), ad); g > 1 {
		bn, ad = bn/g, ad/g
	}
	n, err := mul(an, bn)
	if err != nil {
		return Decimal{}, err
	}
	den, err := mul(ad, bd)
	if err != nil {
		return Decimal{}, err
	}
	return makeDecimal(n, den)
}

// Div returns d ÷ e, exactly.
func (d Decimal) Div(e Decimal) (Decimal, error) {
	if e.num == 0 {
		return Decimal{}, errors.New("division by zero")
	}
	bn, bd := e.parts()
	inv := Decimal{num: bd, den: bn}
	if bn < 0 {
		inv = Decimal{num: -bd, den: -bn}
	}
	return d.Mul(inv)
}

// Cmp compares d and e: -1 if d < e, 0 if equal, +1 if d > e.
func (d Decimal) Cmp(e Decimal) int {
	an, ad := d.parts()
	bn, bd := e.parts()
	if ad == bd {
		return cmpInt(an, bn)
	}
	// Signs decide most comparisons; for equal signs compare |an|·bd with
	// |bn|·ad in 128 bits, which cannot overflow.
	if s, t := d.Sign(), e.Sign(); s != t {
		return cmpInt(int64(s), int64(t))
	}
	hx, lx := bits.Mul64(uint64(abs64(an)), uint64(bd))
	hy, ly := bits.Mul64(uint64(abs64(bn)), uint64(ad))
	c := 0
	switch {
	case hx != hy:
		c = cmpU(hx, hy)
	default:
		c = cmpU(lx, ly)
	}
	if d.Sign() < 0 {
		c = -c
	}
	return c
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpU(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Round returns d rounded to places decimal places, halves away from zero
// (四舍五入, the rounding of Chinese bookkeeping).
func (d Decimal) Round(places int) (Decimal, error) {
	scaled, err := d.scaled(places)
	if err != nil {
		return Decimal{}, err
	}
	return makeDecimal(scaled, pow10[places])
}

// scaled returns d × 10^places rounded half away from zero to an integer.
func (d Decimal) scaled(places int) (int64, error) {
	if places < 0 || places > 18 {
		return 0, fmt.Errorf("%d decimal places: give 0 to 18", places)
	}
	n, den := d.parts()
	hi, lo := bits.Mul64(uint64(abs64(n)), uint64(pow10[places]))
	if hi >= uint64(den) {
		return 0, errOverflow
	}
	q, r := bits.Div64(hi, lo, uint64(den))
	if r >= uint64(den)-r { // r ≥ den/2 without overflow
		q++
	}
	if q > math.MaxInt64 {
		return 0, errOverflow
	}
	v := int64(q)
	if n < 0 {
		v = -v
	}
	return v, nil
}

// Fixed formats d with exactly places decimals, rounding halves away from
// zero: Fixed(2) of 179 is "179.00", of 59.665 is "59.67".
func (d Decimal) Fixed(places int) (string, error) {
	v, err := d.scaled(places)
	if err != nil {
		return "", err
	}
	return formatScaled(v, places), nil
}

func formatScaled(v int64, places int) string {
	var buf [48]byte
	b := buf[:0]
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	digits := strconv.AppendUint(buf[24:24], u, 10)
	if neg {
		b = append(b, '-')
	}
	if len(digits) <= places {
		b = append(b, '0')
		if places > 0 {
			b = append(b, '.')
			for i := len(digits); i < places; i++ {
				b = append(b, '0')
			}
			b = append(b, digits...)
		}
		return string(b)
	}
	b = append(b, digits[:len(digits)-places]...)
	if places > 0 {
		b = append(b, '.')
		b = append(b, digits[len(digits)-places:]...)
	}
	return string(b)
}

// places is how many decimals d needs to be written exactly, or -1 when it
// has no finite decimal form (1/3).
func (d Decimal) places() int {
	_, den := d.parts()
	p := 0
	for den%10 == 0 {
		den /= 10
		p++
	}
	twos, fives := 0, 0
	for den%2 == 0 {
		den /= 2
		twos++
	}
	for den%5 == 0 {
		den /= 5
		fives++
	}
	if den != 1 {
		return -1
	}
	return p + max(twos, fives)
}

// Exact formats d with as many decimals as it needs and no trailing zeros
// ("1", "1.5", "0.125"). A value with no finite decimal form (1/3) is an
// error: round it first.
func (d Decimal) Exact() (string, error) {
	p := d.places()
	if p < 0 {
		return "", errors.New("the value has no exact decimal form (it repeats); round it first, e.g. fixed(x, 4)")
	}
	return d.Fixed(p)
}

// String is Exact, or the fraction "n/d" when there is no exact form.
func (d Decimal) String() string {
	if s, err := d.Exact(); err == nil {
		return s
	}
	n, den := d.parts()
	return strconv.FormatInt(n, 10) + "/" + strconv.FormatInt(den, 10)
}

// MarshalJSON refuses: a Decimal reaches a request body only through a
// formatting helper, which decides the decimals.
func (d Decimal) MarshalJSON() ([]byte, error) {
	return nil, errors.New("a decimal must be formatted before it is sent: use money(), fixed(x, n), num(x) or qty(x)")
}

// toDecimal reads a value from a document or an expression as a Decimal.
// Floats only arrive from literals in expressions (a document decoded by
// this package never holds one); their shortest decimal form is what the
// author wrote, so converting it is exact.
func toDecimal(v any) (Decimal, error) {
	switch x := v.(type) {
	case Decimal:
		return x, nil
	case string:
		return ParseDecimal(x)
	case json.Number:
		return ParseDecimal(string(x))
	case int:
		return DecimalFromInt(int64(x)), nil
	case int64:
		return DecimalFromInt(x), nil
	case int32:
		return DecimalFromInt(int64(x)), nil
	case uint:
		if uint64(x) > math.MaxInt64 {
			return Decimal{}, errOverflow
		}
		return DecimalFromInt(int64(x)), nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return Decimal{}, fmt.Errorf("%v is not a number", x)
		}
		return ParseDecimal(strconv.FormatFloat(x, 'f', -1, 64))
	case nil:
		return Decimal{}, errors.New("no value (the field is missing or null)")
	case bool:
		return Decimal{}, fmt.Errorf("%v is a boolean, not a number", x)
	}
	return Decimal{}, fmt.Errorf("a %s is not a number", typeName(v))
}
