// Package simrecord keeps what a connector's simulator accepted or refused,
// for tests to read back: a list bounded so that a long benchmark against a
// simulator does not hold every body it ever sent.
package simrecord

// List records entries in order. With a bound k it trims itself to the
// newest k entries once it holds 2k, so a record costs amortised O(1) and
// memory stays under 2k entries. It is not safe for concurrent use: the
// simulator's own lock guards it together with the rest of its state.
type List[T any] struct {
	keep  int
	items []T
	added int
}

// New returns a list that keeps at least the newest keep entries; keep 0
// keeps all.
func New[T any](keep int) List[T] { return List[T]{keep: keep} }

// Add records v after the list has trimmed itself.
func (l *List[T]) Add(v T) {
	if l.keep > 0 && len(l.items) >= 2*l.keep {
		n := copy(l.items, l.items[len(l.items)-l.keep:])
		clear(l.items[n:]) // let the dropped bodies go
		l.items = l.items[:n]
	}
	l.items = append(l.items, v)
	l.added++
}

// Added counts every entry ever added, kept or not.
func (l *List[T]) Added() int { return l.added }

// Held is a copy of every entry the list still holds, oldest first: the
// newest keep and perhaps up to keep older ones.
func (l *List[T]) Held() []T { return append([]T(nil), l.items...) }

// Newest is a copy of the newest keep entries (all with keep 0), oldest
// first.
func (l *List[T]) Newest() []T {
	if k := l.keep; k > 0 && len(l.items) > k {
		return append([]T(nil), l.items[len(l.items)-k:]...)
	}
	return append([]T(nil), l.items...)
}
