package fakeclock

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestClockMovesOnlyByAdd(t *testing.T) {
	start := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	c := New(start)
	for _, step := range []struct {
		add  time.Duration
		want time.Time
	}{
		{0, start},
		{time.Minute, start.Add(time.Minute)},
		{-30 * time.Second, start.Add(30 * time.Second)},
	} {
		c.Add(step.add)
		if got := c.Now(); !got.Equal(step.want) {
			t.Fatalf("after Add(%s): %s, want %s", step.add, got, step.want)
		}
	}
}

func TestClockConcurrentUse(t *testing.T) {
	c := New(time.Unix(0, 0))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				c.Add(time.Second)
				c.Now()
			}
		}()
	}
	wg.Wait()
	if got := c.Now().Unix(); got != 800 {
		t.Fatalf("%d seconds passed, want 800", got)
	}
}

func ExampleClock() {
	c := New(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	now := c.Now // what a simulator and a client are given
	c.Add(61 * time.Second)
	fmt.Println(now().Format(time.TimeOnly))
	// Output: 10:01:01
}
