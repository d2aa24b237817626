package storetest

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"orderhub/internal/store"
)

// testLinkSecret: the first uses, side by side as several nodes make them,
// all get one key, and it stays.
func testLinkSecret(t *testing.T, s *store.Store) {
	ctx := context.Background()
	keys := make([][]byte, 8)
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() { keys[i], errs[i] = s.LinkSecret(ctx) })
	}
	wg.Wait()
	for i, k := range keys {
		if errs[i] != nil {
			t.Fatalf("LinkSecret %d: %v", i, errs[i])
		}
		if len(k) != 32 || !bytes.Equal(k, keys[0]) {
			t.Fatalf("LinkSecret %d = %x, want the 32 bytes of the first, %x", i, k, keys[0])
		}
	}
	again, err := s.LinkSecret(ctx)
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Fatalf("LinkSecret later = %x, %v; want %x", again, err, keys[0])
	}
}

// testEmailTracking: openings and clicks are kept once, from the first; a
// click counts as an opening; DeliveryStats counts them per rule and
// endpoint.
func testEmailTracking(t *testing.T, s *store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	queue(t, s, now, msg("mail", "r", "a"), msg("mail", "r", "b"), msg("mail", "r", "c"))
	a, b := byKey(t, s, "mail", "a"), byKey(t, s, "mail", "b")
	steps := []struct {
		name  string
		mark  func() (bool, error)
		found bool
	}{
		{"a opened", func() (bool, error) { return s.MarkOpened(ctx, a.ID, now.Add(time.Minute)) }, true},
		{"a opened again", func() (bool, error) { return s.MarkOpened(ctx, a.ID, now.Add(2*time.Minute)) }, true},
		{"b clicked without the pixel", func() (bool, error) { return s.MarkClicked(ctx, b.ID, now.Add(3*time.Minute)) }, true},
		{"b clicked again", func() (bool, error) { return s.MarkClicked(ctx, b.ID, now.Add(4*time.Minute)) }, true},
		{"no such delivery", func() (bool, error) { return s.MarkOpened(ctx, 1<<40, now) }, false},
	}
	for _, st := range steps {
		found, err := st.mark()
		if err != nil || found != st.found {
			t.Fatalf("%s: %v, %v; want found %v", st.name, found, err, st.found)
		}
	}
	stats, err := s.DeliveryStats(ctx, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var count, opened, clicked int
	for _, st := range stats {
		if st.Rule == "r" && st.System == "mail" {
			count, opened, clicked = count+st.Count, opened+st.Opened, clicked+st.Clicked
		}
	}
	if count != 3 || opened != 2 || clicked != 1 {
		t.Fatalf("stats: %d deliveries, %d opened, %d clicked; want 3, 2, 1 (%+v)", count, opened, clicked, stats)
	}
}
