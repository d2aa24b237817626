package jobs_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"orderhub/internal/jobs"
	"orderhub/internal/store"
)

// lockedBuffer collects log output written from River's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// panicker is a consumer that panics on its first call, then takes events.
type panicker struct {
	recorder
	panicked bool
}

func (p *panicker) Consume(ctx context.Context, tx *sql.Tx, evs []store.Event) error {
	p.mu.Lock()
	first := !p.panicked
	p.panicked = true
	p.mu.Unlock()
	if first {
		panic("consumer broke (test)")
	}
	return p.recorder.Consume(ctx, tx, evs)
}

// River's own records below warn (its client starting and stopping, a job
// that errored, the producer's job counts) reach orderhub's log only at
// log.level debug; its errors (a job that panicked) at every level. A
// failing dispatch is still logged, at warn, by the worker itself.
func TestRiverLogsBelowWarnOnlyAtDebug(t *testing.T) {
	for _, tc := range []struct {
		level         slog.Level
		wantRiverInfo bool // River's info and debug records come through
		wantFailure   bool // the worker's warning about the failed drain
	}{
		{slog.LevelDebug, true, true},
		{slog.LevelInfo, false, true},
		{slog.LevelWarn, false, true},
		{slog.LevelError, false, false},
	} {
		t.Run(tc.level.String(), func(t *testing.T) {
			ctx := context.Background()
			s, err := store.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "j.db"), store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := jobs.Migrate(ctx, s); err != nil {
				t.Fatal(err)
			}
			out := &lockedBuffer{}
			log := slog.New(slog.NewJSONHandler(out, &slog.HandlerOptions{Level: tc.level}))
			rec := &recorder{name: "flaky", fail: 1}
			pan := &panicker{recorder: recorder{name: "panicky"}}
			r, err := jobs.New(s, jobs.NewDispatcher(s, nil, rec, pan), jobs.Options{Log: log, SweepEvery: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Apply(ctx, []store.Incoming{paidOrder("L1")}, r.QueueDispatch); err != nil {
				t.Fatal(err)
			}
			// The first drain fails, the second panics, River retries each
			// after 250 ms and 500 ms.
			wait(t, 20*time.Second, func() bool { return len(rec.ids()) == 2 && len(pan.ids()) == 2 })
			if err := r.Stop(ctx); err != nil {
				t.Fatal(err)
			}

			var riverQuiet, riverLoud []string
			failures, panics := 0, 0
			for _, r := range out.records(t) {
				msg, _ := r["msg"].(string)
				switch r["component"] {
				case "river":
					if r["level"] == "DEBUG" || r["level"] == "INFO" {
						riverQuiet = append(riverQuiet, msg)
					} else if r["level"] == "ERROR" && strings.Contains(msg, "panic recovery") && r["panic_val"] == "consumer broke (test)" {
						panics++ // River's own report of a panicked job
					} else {
						riverLoud = append(riverLoud, msg)
					}
				case "dispatch":
					if msg == "dispatching events failed; retrying" && r["level"] == "WARN" &&
						strings.Contains(r["error"].(string), "consumer refused (test)") && r["attempt"] == 1.0 {
						failures++
					}
				}
			}
			if tc.wantRiverInfo {
				for _, want := range []string{"River client started", "River client stopped"} {
					if !contains(riverQuiet, want) {
						t.Errorf("at %s, River's %q is missing; River logged %q", tc.level, want, riverQuiet)
					}
				}
			} else if len(riverQuiet) > 0 {
				t.Errorf("at %s, River's records below warn came through: %q", tc.level, riverQuiet)
			}
			if len(riverLoud) > 0 {
				t.Errorf("River warned or failed other than about the panic: %q", riverLoud)
			}
			if want := map[bool]int{true: 1, false: 0}[tc.wantFailure]; failures != want {
				t.Errorf("at %s, %d warnings about the failed drain, want %d; log:\n%s", tc.level, failures, want, out.buf.String())
			}
			if panics != 1 {
				t.Errorf("at %s, River reported the panicked drain %d times, want once at error; log:\n%s", tc.level, panics, out.buf.String())
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
