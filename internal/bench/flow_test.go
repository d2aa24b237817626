package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// The flow harness must keep working: both paths bring the simulators to
// every bill of a round (each round checks that itself), and the report
// says what was measured.
func TestRunFlowSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts simulators and an App per round")
	}
	for _, flow := range []string{"trades", "both"} {
		t.Run(flow, func(t *testing.T) {
			rep, err := RunFlow(context.Background(), FlowOptions{Orders: 300, Flow: flow, Rounds: 1, Dir: t.TempDir(), Timeout: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Bare) != 1 || len(rep.Real) != 1 {
				t.Fatalf("rounds: bare %d, real %d; want 1 each", len(rep.Bare), len(rep.Real))
			}
			for _, r := range append(rep.Bare, rep.Real...) {
				if r.Bills < 300 || r.Rate <= 0 || r.Elapsed <= 0 {
					t.Errorf("round %+v; want at least the 300 trades' bills, measured", r)
				}
			}
			if flow == "both" && rep.Real[0].Bills == 300 {
				t.Errorf("flow both wrote no refund stock-ins: %+v", rep.Real[0])
			}
			if rep.Ratio <= 0 || rep.Pages == 0 || rep.Calls < 300 {
				t.Errorf("ratio %.2f, %d pages, %d calls; want all measured", rep.Ratio, rep.Pages, rep.Calls)
			}
			var out bytes.Buffer
			rep.Print(&out)
			for _, want := range []string{"bare client", "orderhub flows", "ratio orderhub/bare (medians):", "goal: ≥ 3000 orders/s"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("report has no %q:\n%s", want, out.String())
				}
			}
		})
	}
}

// Bad options are refused before anything starts.
func TestRunFlowOptions(t *testing.T) {
	for _, tc := range []struct {
		o    FlowOptions
		want string
	}{
		{FlowOptions{Flow: "orders"}, "want trades, refunds or both"},
		{FlowOptions{Store: "mysql://x"}, "want sqlite or a postgres:// URL"},
	} {
		_, err := RunFlow(context.Background(), tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v; want %q", tc.o, err, tc.want)
		}
	}
}
