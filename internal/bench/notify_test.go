package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// The notify harness must keep working: both paths bring the robot to every
// message of a round (each round checks that itself, and the orderhub path
// that the store records each one sent), and the report says what was
// measured.
func TestRunNotifySmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a robot simulator and a store per round")
	}
	rep, err := RunNotify(context.Background(), NotifyOptions{Orders: 200, Rounds: 1, Dir: t.TempDir(), Timeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Bare) != 1 || len(rep.Real) != 1 {
		t.Fatalf("rounds: bare %d, real %d; want 1 each", len(rep.Bare), len(rep.Real))
	}
	// new_order tells every order; big_order some of them as well.
	if rep.Deliveries <= 200 || rep.Deliveries >= 400 {
		t.Errorf("%d messages for 200 orders; want one each and a second for the big ones", rep.Deliveries)
	}
	for _, r := range append(rep.Bare, rep.Real...) {
		if r.Deliveries != rep.Deliveries || r.Rate <= 0 || r.Elapsed <= 0 {
			t.Errorf("round %+v; want all %d messages, measured", r, rep.Deliveries)
		}
	}
	real := rep.Real[0]
	if real.Calls != rep.Deliveries || real.First <= 0 || real.Queued <= 0 || real.Consume <= 0 || real.InFlight <= 0 || real.Sender < real.InFlight {
		t.Errorf("orderhub round %+v; want one call per message and every part measured", real)
	}
	if rep.Ratio <= 0 {
		t.Errorf("ratio %.2f; want it measured", rep.Ratio)
	}
	var out bytes.Buffer
	rep.Print(&out)
	for _, want := range []string{"bare client", "orderhub notify", "where orderhub's time goes", "ratio orderhub/bare (medians):",
		"goal: ≥ 5000 deliveries/s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("report has no %q:\n%s", want, out.String())
		}
	}
}

// Bad options are refused before anything starts.
func TestRunNotifyOptions(t *testing.T) {
	for _, tc := range []struct {
		o    NotifyOptions
		want string
	}{
		{NotifyOptions{Store: "mysql://x"}, "want sqlite or a postgres:// URL"},
		{NotifyOptions{Orders: -1}, "must be positive"},
	} {
		_, err := RunNotify(context.Background(), tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v; want %q", tc.o, err, tc.want)
		}
	}
}
