package simrecord

import (
	"fmt"
	"reflect"
	"testing"
)

func TestList(t *testing.T) {
	for _, c := range []struct {
		name         string
		keep, add    int
		held, newest []int
	}{
		{"empty", 3, 0, nil, nil},
		{"keep all", 0, 5, []int{1, 2, 3, 4, 5}, []int{1, 2, 3, 4, 5}},
		{"under the bound", 3, 2, []int{1, 2}, []int{1, 2}},
		{"up to twice the bound before a trim", 3, 6, []int{1, 2, 3, 4, 5, 6}, []int{4, 5, 6}},
		{"trimmed to the newest before the next", 3, 7, []int{4, 5, 6, 7}, []int{5, 6, 7}},
		{"keep one", 1, 5, []int{4, 5}, []int{5}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := New[int](c.keep)
			for i := 1; i <= c.add; i++ {
				l.Add(i)
			}
			if got := l.Held(); !reflect.DeepEqual(got, c.held) {
				t.Errorf("Held() = %v, want %v", got, c.held)
			}
			if got := l.Newest(); !reflect.DeepEqual(got, c.newest) {
				t.Errorf("Newest() = %v, want %v", got, c.newest)
			}
			if l.Added() != c.add {
				t.Errorf("Added() = %d, want %d", l.Added(), c.add)
			}
		})
	}
}

func TestListCopies(t *testing.T) {
	l := New[int](0)
	l.Add(1)
	l.Newest()[0] = 9
	l.Held()[0] = 9
	if got := l.Newest(); got[0] != 1 {
		t.Fatalf("a caller changed the record: %v", got)
	}
}

func ExampleList() {
	l := New[string](2)
	for _, m := range []string{"a", "b", "c", "d", "e"} {
		l.Add(m)
	}
	fmt.Println(l.Newest(), l.Added())
	// Output: [d e] 5
}
