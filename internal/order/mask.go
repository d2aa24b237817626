package order

import "unicode/utf8"

// MaskPhone hides the middle of a phone number the way Chinese apps do:
// 13812341234 → 138****1234. Short or odd values keep at most their last
// two characters so that nothing identifying leaks from a malformed field.
func MaskPhone(p string) string {
	n := len(p)
	switch {
	case n == 0:
		return ""
	case n >= 11:
		return p[:3] + "****" + p[n-4:]
	case n >= 7:
		return p[:2] + "****" + p[n-2:]
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
