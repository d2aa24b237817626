package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"orderhub/internal/store"
)

// testUpdatePrefs: changes made at once to one person's preferences all
// hold (each holds the row while it reads and writes), a change that finds
// nothing to do writes nothing, and a person without preferences starts
// from none.
func testUpdatePrefs(t *testing.T, s *store.Store) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)
	if err := s.SetPrefs(ctx, store.Prefs{Person: "zhang", MutedEvents: []string{"paid"}, Only: "ch3"}, now); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch := fmt.Sprintf("ch%d", i)
			_, err := s.UpdatePrefs(ctx, "zhang", now.Add(time.Minute), func(p *store.Prefs) bool {
				p.MutedChannels = append(p.MutedChannels, ch)
				if p.Only == ch {
					p.Only = ""
				}
				return true
			})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.AllPrefs(ctx, s.Reader())
	if err != nil {
		t.Fatal(err)
	}
	got := all["zhang"]
	slices.Sort(got.MutedChannels)
	want := []string{"ch0", "ch1", "ch2", "ch3", "ch4", "ch5", "ch6", "ch7"}
	if !slices.Equal(got.MutedChannels, want) || got.Only != "" || !slices.Equal(got.MutedEvents, []string{"paid"}) || !got.UpdatedAt.Equal(now.Add(time.Minute)) {
		t.Errorf("after eight changes at once: %+v, want channels %v muted, only cleared, paid still muted", got, want)
	}
	// Nothing to do: nothing written.
	p, err := s.UpdatePrefs(ctx, "zhang", now.Add(time.Hour), func(*store.Prefs) bool { return false })
	if err != nil || !p.UpdatedAt.Equal(now.Add(time.Minute)) {
		t.Errorf("an update that changed nothing: %+v, %v", p, err)
	}
	// A person without preferences starts from none.
	p, err = s.UpdatePrefs(ctx, "li", now, func(p *store.Prefs) bool {
		if len(p.MutedChannels) != 0 || len(p.MutedEvents) != 0 || p.Only != "" {
			t.Errorf("li starts from %+v", p)
		}
		p.MutedChannels = []string{"sms"}
		return true
	})
	if err != nil || !slices.Equal(p.MutedChannels, []string{"sms"}) {
		t.Errorf("li: %+v, %v", p, err)
	}
}
