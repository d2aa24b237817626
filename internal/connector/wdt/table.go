package wdt

import (
	"slices"
	"strings"
)

// record is one document version the simulator holds: its key, its
// modified second and when queries may first see it, and the JSON it
// answers with, encoded once when the document is put.
type record struct {
	key     string
	mod     int64 // unix seconds of modified
	visible int64 // unix nanoseconds from which queries see it; 0 at once
	raw     []byte
	trade   *Trade
	stockin *Stockin
}

func (r *record) visibleAt(now int64) bool { return r.visible <= now }

func cmpRecord(a, b *record) int {
	if a.mod != b.mod {
		if a.mod < b.mod {
			return -1
		}
		return 1
	}
	return strings.Compare(a.key, b.key)
}

// table holds one API's documents, indexed by modified time so that a
// page of a window is two binary searches and a slice, never a scan and a
// sort. Documents with the same modified second are ordered by key, so
// paging through ties is stable.
type table struct {
	byMod []*record
	byKey map[string]*record
	// maxVisible is the latest visible time of any record: a query at or
	// after it sees everything and takes the fast path.
	maxVisible int64
	// pending are the records put with a visible time (late documents),
	// some perhaps replaced or visible by now: a query whose window holds
	// none still hidden takes the fast path too.
	pending []*record
}

func newTable() *table { return &table{byKey: map[string]*record{}} }

// put adds r, replacing the version with the same key.
func (t *table) put(r *record) {
	if old, ok := t.byKey[r.key]; ok {
		t.remove(old)
	}
	i, _ := slices.BinarySearchFunc(t.byMod, r, cmpRecord)
	t.byMod = slices.Insert(t.byMod, i, r)
	t.byKey[r.key] = r
	t.note(r)
}

// note keeps track of a late record.
func (t *table) note(r *record) {
	if r.visible == 0 {
		return
	}
	t.maxVisible = max(t.maxVisible, r.visible)
	t.pending = append(t.pending, r)
	if len(t.pending) > 64 && len(t.pending) > 2*len(t.byKey) {
		t.pending = slices.DeleteFunc(t.pending, func(p *record) bool { return t.byKey[p.key] != p })
	}
}

// hiddenIn reports whether a record modified in [from, to] is still
// hidden at now.
func (t *table) hiddenIn(from, to, now int64) bool {
	if now >= t.maxVisible {
		return false
	}
	for _, r := range t.pending {
		if !r.visibleAt(now) && r.mod >= from && r.mod <= to && t.byKey[r.key] == r {
			return true
		}
	}
	return false
}

// putMany adds many records at once: one sort instead of an insertion
// each.
func (t *table) putMany(rs []*record) {
	if len(rs) < 64 {
		for _, r := range rs {
			t.put(r)
		}
		return
	}
	for _, r := range rs {
		if old, ok := t.byKey[r.key]; ok {
			t.remove(old)
		}
		t.byKey[r.key] = r
		t.note(r)
	}
	// A key repeated within rs keeps only its last version.
	for _, r := range rs {
		if t.byKey[r.key] == r {
			t.byMod = append(t.byMod, r)
		}
	}
	slices.SortFunc(t.byMod, cmpRecord)
}

func (t *table) remove(r *record) {
	i, found := slices.BinarySearchFunc(t.byMod, r, cmpRecord)
	if found && t.byMod[i] == r {
		t.byMod = slices.Delete(t.byMod, i, i+1)
	}
	delete(t.byKey, r.key)
}

// query returns how many documents modified in [from, to] (unix seconds)
// are visible at now and match, and the raw JSON of page pageNo of size.
func (t *table) query(from, to int64, now int64, match func(*record) bool, pageNo, size int) (int, [][]byte) {
	lo, _ := slices.BinarySearchFunc(t.byMod, from, func(r *record, s int64) int { return cmpInt(r.mod, s) })
	hi, _ := slices.BinarySearchFunc(t.byMod, to+1, func(r *record, s int64) int { return cmpInt(r.mod, s) })
	skip := pageNo * size
	if match == nil && !t.hiddenIn(from, to, now) {
		total := hi - lo
		start := min(lo+skip, hi)
		end := min(start+size, hi)
		page := make([][]byte, 0, end-start)
		for _, r := range t.byMod[start:end] {
			page = append(page, r.raw)
		}
		return total, page
	}
	total := 0
	var page [][]byte
	for _, r := range t.byMod[lo:hi] {
		if !r.visibleAt(now) || (match != nil && !match(r)) {
			continue
		}
		if total >= skip && len(page) < size {
			page = append(page, r.raw)
		}
		total++
	}
	return total, page
}

// find returns the visible documents matching, in modified order: the
// lookups by number that take no time window.
func (t *table) find(now int64, match func(*record) bool, pageNo, size int) (int, [][]byte) {
	return t.query(-1<<62, 1<<62, now, match, pageNo, size)
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
