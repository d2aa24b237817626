package mapping

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// need is the part of a source document a mapping reads, found from its
// expressions at load time. Decoding only that part is what keeps a trade
// with a hundred fields per line cheap to map: every other value is
// validated and scanned past, not built.
type need struct {
	all    bool             // the whole value is read
	fields map[string]*need // members read, for objects
	elems  *need            // what is read of each element, for lists ($each)

	// names and subs are fields as two slices, set by finish: a mapping
	// reads a handful of members of objects with dozens, and comparing a
	// key with a few names is cheaper than hashing it.
	names []string
	subs  []*need
}

// finish prepares n and everything under it for decoding.
func (n *need) finish() {
	if n == nil {
		return
	}
	n.names, n.subs = n.names[:0], n.subs[:0]
	for _, k := range sortedKeys(n.fields) {
		n.names = append(n.names, k)
		n.subs = append(n.subs, n.fields[k])
		n.fields[k].finish()
	}
	n.elems.finish()
}

// index is the position of member key in names, -1 when it is not read.
// n must be finished.
func (n *need) index(key string) int {
	for i, name := range n.names {
		// Lengths and first bytes turn away most keys before a comparison.
		if len(name) == len(key) && (len(key) == 0 || name[0] == key[0]) && name == key {
			return i
		}
	}
	return -1
}

func (n *need) field(name string) *need {
	if n.fields == nil {
		n.fields = map[string]*need{}
	}
	c := n.fields[name]
	if c == nil {
		c = &need{}
		n.fields[name] = c
	}
	return c
}

// at walks to the need for path, making it as it goes.
func (n *need) at(path []string) *need {
	for _, p := range path {
		n = n.field(p)
	}
	return n
}

var needAll = &need{all: true}

// decodeDoc decodes a JSON object into plain values: objects as
// map[string]any, lists as []any, text as string, whole numbers as int,
// other numbers as Decimal (never float64), true/false, null as nil. Only
// what n asks for is built, but the whole text is checked to be JSON in the
// same single pass; n == nil decodes everything. A repeated key keeps its
// last value, as encoding/json does.
func decodeDoc(raw []byte, n *need) (map[string]any, error) {
	if n == nil {
		n = needAll
	}
	// The text is read in place, not copied: a document is a few KB of
	// which a mapping keeps a few short strings, and those are copied into
	// the decoder's arena (keep), so nothing decoded refers to raw.
	d := &decoder{b: raw, src: unsafe.String(unsafe.SliceData(raw), len(raw))}
	d.ws()
	if d.i >= len(d.src) {
		return nil, errors.New("is empty")
	}
	if d.src[d.i] != '{' {
		if d.skip(0) && d.end() {
			return nil, errors.New("is not a JSON object")
		}
		return nil, d.error()
	}
	v, ok := d.object(n, 0)
	if !ok || !d.end() {
		return nil, d.error()
	}
	return v, nil
}

// maxDepth bounds nesting, so a hostile document cannot exhaust the stack.
const maxDepth = 1000

type decoder struct {
	b    []byte // the text
	src  string // the same bytes as b, never to be kept: see keep
	i    int
	msg  string // the first error
	errI int

	arena []byte // the bytes of the strings kept, see keep
}

// keep returns a copy of s, a slice of the text, that the decoded document
// may hold. Copies share blocks of memory that are only ever appended to,
// so keeping a dozen strings costs an allocation or two, not a dozen.
func (d *decoder) keep(s string) string {
	if len(s) == 0 {
		return ""
	}
	if cap(d.arena)-len(d.arena) < len(s) {
		// A new block, not a grown one: the strings already kept point into
		// the old block, which must not move.
		d.arena = make([]byte, 0, max(256, 2*cap(d.arena), len(s)))
	}
	start := len(d.arena)
	d.arena = append(d.arena, s...)
	return unsafe.String(&d.arena[start], len(s))
}

func (d *decoder) fail(msg string) bool {
	if d.msg == "" {
		d.msg, d.errI = msg, d.i
	}
	return false
}

func (d *decoder) error() error {
	if d.msg == "" {
		d.fail("ends too early")
	}
	return fmt.Errorf("is not valid JSON: %s at byte %d", d.msg, d.errI)
}

func (d *decoder) unexpected() bool {
	if d.i >= len(d.src) {
		return d.fail("ends too early")
	}
	return d.fail("unexpected " + strconv.QuoteRune(rune(d.src[d.i])))
}

// end checks that only white space follows the value.
func (d *decoder) end() bool {
	d.ws()
	if d.i != len(d.src) {
		return d.fail("unexpected text after the document")
	}
	return true
}

func (d *decoder) ws() {
	s, i := d.src, d.i
	for i < len(s) && s[i] <= ' ' && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	d.i = i
}

// object decodes the object at d.i, building the members n asks for.
func (d *decoder) object(n *need, depth int) (map[string]any, bool) {
	if depth > maxDepth {
		return nil, d.fail("nests too deeply")
	}
	d.i++ // {
	size := len(n.fields)
	if n.all {
		size = 8
	}
	m := make(map[string]any, size)
	d.ws()
	if d.i < len(d.src) && d.src[d.i] == '}' {
		d.i++
		return m, true
	}
	for {
		if d.i >= len(d.src) || d.src[d.i] != '"' {
			return nil, d.unexpected()
		}
		body, esc, ok := d.rawStr()
		if !ok {
			return nil, false
		}
		key := body // a slice of the text until it is kept
		if esc {
			key = unescape(body)
		}
		d.ws()
		if d.i >= len(d.src) || d.src[d.i] != ':' {
			return nil, d.unexpected()
		}
		d.i++
		d.ws()
		var sub *need
		if n.all {
			sub = needAll
			if !esc {
				key = d.keep(key)
			}
		} else if j := n.index(key); j >= 0 {
			sub, key = n.subs[j], n.names[j] // the need's own copy of the name
		}
		if sub == nil {
			if !d.skip(depth + 1) {
				return nil, false
			}
		} else {
			v, ok := d.value(sub, depth+1)
			if !ok {
				return nil, false
			}
			m[key] = v
		}
		d.ws()
		if d.i >= len(d.src) {
			return nil, d.unexpected()
		}
		switch d.src[d.i] {
		case ',':
			d.i++
			d.ws()
		case '}':
			d.i++
			return m, true
		default:
			return nil, d.unexpected()
		}
	}
}

// value decodes the value at d.i as n asks: members of an object, elements
// of a list, or (n.all, or a value of another shape than expected, so the
// expressions see and report what is really there) all of it.
func (d *decoder) value(n *need, depth int) (any, bool) {
	if d.i >= len(d.src) {
		return nil, d.unexpected()
	}
	switch c := d.src[d.i]; {
	case c == '{':
		if n.fields == nil {
			n = needAll
		}
		return d.object(n, depth)
	case c == '[':
		e := n.elems
		if n.all || e == nil {
			e = needAll
		}
		return d.array(e, depth)
	case c == '"':
		body, esc, ok := d.rawStr()
		if !ok {
			return nil, false
		}
		if esc {
			return unescape(body), true
		}
		return d.keep(body), true
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		start := d.i
		if !d.number() {
			return nil, false
		}
		v := decodeNumber(d.src[start:d.i])
		if t, isText := v.(json.Number); isText {
			v = json.Number(d.keep(string(t)))
		}
		return v, true
	}
	return nil, d.unexpected()
}

func (d *decoder) array(e *need, depth int) ([]any, bool) {
	if depth > maxDepth {
		return nil, d.fail("nests too deeply")
	}
	d.i++ // [
	out := make([]any, 0, 4)
	d.ws()
	if d.i < len(d.src) && d.src[d.i] == ']' {
		d.i++
		return out, true
	}
	for {
		v, ok := d.value(e, depth+1)
		if !ok {
			return nil, false
		}
		out = append(out, v)
		d.ws()
		if d.i >= len(d.src) {
			return nil, d.unexpected()
		}
		switch d.src[d.i] {
		case ',':
			d.i++
			d.ws()
		case ']':
			d.i++
			return out, true
		default:
			return nil, d.unexpected()
		}
	}
}

// skip checks the value at d.i and moves past it without building it.
func (d *decoder) skip(depth int) bool {
	if depth > maxDepth {
		return d.fail("nests too deeply")
	}
	if d.i >= len(d.src) {
		return d.unexpected()
	}
	switch c := d.src[d.i]; {
	case c == '"':
		return d.skipStr()
	case c == '{':
		d.i++
		d.ws()
		if d.i < len(d.src) && d.src[d.i] == '}' {
			d.i++
			return true
		}
		for {
			if d.i >= len(d.src) || d.src[d.i] != '"' || !d.skipStr() {
				return d.unexpected()
			}
			d.ws()
			if d.i >= len(d.src) || d.src[d.i] != ':' {
				return d.unexpected()
			}
			d.i++
			d.ws()
			if !d.skip(depth + 1) {
				return false
			}
			d.ws()
			if d.i >= len(d.src) {
				return d.unexpected()
			}
			switch d.src[d.i] {
			case ',':
				d.i++
				d.ws()
			case '}':
				d.i++
				return true
			default:
				return d.unexpected()
			}
		}
	case c == '[':
		d.i++
		d.ws()
		if d.i < len(d.src) && d.src[d.i] == ']' {
			d.i++
			return true
		}
		for {
			if !d.skip(depth + 1) {
				return false
			}
			d.ws()
			if d.i >= len(d.src) {
				return d.unexpected()
			}
			switch d.src[d.i] {
			case ',':
				d.i++
				d.ws()
			case ']':
				d.i++
				return true
			default:
				return d.unexpected()
			}
		}
	case c == 't':
		return d.literal("true")
	case c == 'f':
		return d.literal("false")
	case c == 'n':
		return d.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	}
	return d.unexpected()
}

func (d *decoder) literal(word string) bool {
	if !strings.HasPrefix(d.src[d.i:], word) {
		return d.fail("invalid literal (expected " + word + ")")
	}
	d.i += len(word)
	return true
}

// number checks a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (d *decoder) number() bool {
	s, i := d.src, d.i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		d.i = i
		return d.fail("invalid number")
	}
	if i < len(s) && s[i] == '.' {
		i++
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			d.i = i
			return d.fail("invalid number")
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			d.i = i
			return d.fail("invalid number")
		}
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	}
	d.i = i
	return true
}

// skipStr checks the string at d.i (its escapes and that it holds no
// control character) and moves past it.
func (d *decoder) skipStr() bool {
	s := d.src
	i, _ := d.plainRun(d.i + 1)
	for i < len(s) {
		switch c := s[i]; {
		case c == '"':
			d.i = i + 1
			return true
		case c == '\\':
			n, ok := escapeLen(s, i)
			if !ok {
				d.i = i
				return d.fail("invalid escape in a string")
			}
			i, _ = d.plainRun(i + n)
		case c < 0x20:
			d.i = i
			return d.fail("control character in a string")
		default:
			i++
		}
	}
	d.i = i
	return d.fail("unterminated string")
}

// SWAR constants: a byte of ones in every lane, and every lane's top bit.
const (
	lanes01 = 0x0101010101010101
	lanes80 = 0x8080808080808080
)

// plainRun returns the index of the first byte at or after i that ends a
// run of plain string bytes: a quote, a backslash or a control character
// (or one within the last seven bytes of the text). It looks at eight bytes
// a step; the byte loops of the callers take it from there, so what they
// accept and where they report an error is unchanged. hi is true when a
// byte of the whole words it passed is not ASCII.
func (d *decoder) plainRun(i int) (end int, hi bool) {
	b := d.b
	var high uint64
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		q := w ^ (lanes01 * '"')
		bs := w ^ (lanes01 * '\\')
		// (x - 0x01…) &^ x has the top bit of the lowest zero lane of x set
		// (and maybe of lanes above it, from the borrow), so the lowest
		// flagged lane is the first quote, backslash or byte below 0x20.
		m := ((q - lanes01) &^ q) | ((bs - lanes01) &^ bs) | ((w - lanes01*0x20) &^ w)
		if m &= lanes80; m != 0 {
			n := bits.TrailingZeros64(m) / 8
			// Only the lanes below the stop count for hi.
			high |= w & lanes80 & (1<<(8*n) - 1)
			return i + n, high != 0
		}
		high |= w & lanes80
		i += 8
	}
	return i, high != 0
}

// rawStr checks the string at d.i and moves past it. body is its text
// between the quotes, a slice of the document; esc is true when that text
// is not the string's value as it stands (it has escapes, or invalid UTF-8
// that decoding replaces by U+FFFD as encoding/json does) and must go
// through unescape.
func (d *decoder) rawStr() (body string, esc bool, ok bool) {
	start := d.i + 1
	s := d.src
	i, hi := d.plainRun(start)
	for i < len(s) {
		c := s[i]
		if c == '"' {
			break
		}
		if c == '\\' {
			esc = true
			n, ok := escapeLen(s, i)
			if !ok {
				d.i = i
				return "", false, d.fail("invalid escape in a string")
			}
			i, _ = d.plainRun(i + n)
			continue
		}
		if c < 0x20 {
			d.i = i
			return "", false, d.fail("control character in a string")
		}
		if c >= utf8.RuneSelf {
			hi = true
		}
		i++
	}
	if i >= len(s) {
		d.i = i
		return "", false, d.fail("unterminated string")
	}
	d.i = i + 1
	body = s[start:i]
	if !esc && hi {
		esc = !utf8.ValidString(body)
	}
	return body, esc, true
}

// escapeLen is the length of the escape at s[i] == '\\'.
func escapeLen(s string, i int) (int, bool) {
	if i+1 >= len(s) {
		return 0, false
	}
	switch s[i+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2, true
	case 'u':
		if i+6 > len(s) {
			return 0, false
		}
		for _, c := range []byte(s[i+2 : i+6]) {
			if !isHex(c) {
				return 0, false
			}
		}
		return 6, true
	}
	return 0, false
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// unescape decodes the escapes of a checked string body.
func unescape(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b.WriteRune(utf8.RuneError)
			} else {
				b.WriteString(s[i : i+size])
			}
			i += size
			continue
		}
		switch s[i+1] {
		case 'u':
			r := hexRune(s[i+2 : i+6])
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 = hexRune(s[i+2 : i+6])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					b.WriteRune(dec)
					i += 6
					continue
				}
				r = utf8.RuneError
			}
			b.WriteRune(r)
			continue
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		default: // " \ /
			b.WriteByte(s[i+1])
		}
		i += 2
	}
	return b.String()
}

func hexRune(h string) rune {
	var r rune
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// decodeNumber keeps a JSON number exact: an int when it is whole and fits,
// a Decimal when it has a fraction, and its text (json.Number) when it has
// an exponent or too many digits for either.
func decodeNumber(raw string) any {
	whole := true
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c == '.' || c == 'e' || c == 'E' {
			whole = false
			break
		}
	}
	if whole {
		if i, err := strconv.ParseInt(raw, 10, 64); err == nil && int64(int(i)) == i {
			return int(i)
		}
	}
	if d, err := ParseDecimal(raw); err == nil {
		return d
	}
	return json.Number(raw)
}
