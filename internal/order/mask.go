package order

import "unicode/utf8"

// MaskPhone hides the middle of a phone number the way Chinese apps do:
// 13812341234 → 138****1234. Short or odd values keep at most their last
// two characters so that nothing identifying leaks from a malformed field.
func MaskPhone(p string) string {
	// Counted and cut in characters, not bytes: a field holding text (the
	// mall sends "下单人手机号" in its samples) must not be split inside a
	// character, which would make the masked value invalid UTF-8.
	r := []rune(p)
	n := len(r)
	switch {
	case n == 0:
		return ""
	case n >= 11:
		return string(r[:3]) + "****" + string(r[n-4:])
	case n >= 7:
		return string(r[:2]) + "****" + string(r[n-2:])
	default:
		return "****"
	}
}

// MaskName keeps the first character of a name: 张三丰 → 张**.
func MaskName(s string) string {
	if s == "" {
		return ""
	}
	r, size := utf8.DecodeRuneInString(s)
	rest := utf8.RuneCountInString(s[size:])
	if rest == 0 {
		return "*"
	}
	out := string(r)
	for i := 0; i < rest; i++ {
		out += "*"
	}
	return out
}

// MaskAddress keeps the first six characters (province and city, usually) of
// an address and hides the rest.
func MaskAddress(s string) string {
	const keep = 6
	if utf8.RuneCountInString(s) <= keep {
		if s == "" {
			return ""
		}
		return "****"
	}
	i, n := 0, 0
	for i < len(s) && n < keep {
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		n++
	}
	return s[:i] + "****"
}
