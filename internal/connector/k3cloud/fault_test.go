package k3cloud

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/simfault"
)

// TestExactlyOnceUnderFaults writes 2,000 bills in batches of 50 from four
// writers while the site loses answers after committing, fails with 502,
// throttles and drops its sessions. The writers do what a flow does:
// after an unknown outcome they look the batch up and resend only what is
// missing; a duplicate is confirmed with Find. Afterwards the site holds
// every bill exactly once. Bounded: at most 40 attempts per batch.
func TestExactlyOnceUnderFaults(t *testing.T) {
	s := newSite(t, SimConfig{})
	f := s.sim.Faults()
	f.Seed(42)
	for _, k := range []simfault.Kind{simfault.LoseAnswer, simfault.ServerError, simfault.Throttle, simfault.SessionLoss} {
		f.Inject(simfault.Fault{Kind: k, Rate: 0.08})
	}
	c := s.client(t, nil)
	ctx := context.Background()
	const total, batch, writers = 2000, 50, 4
	work := make(chan []connector.Bill)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for bills := range work {
				if err := writeOnce(ctx, c, bills); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < total; i += batch {
		bills := make([]connector.Bill, batch)
		for j := range bills {
			bills[j] = returnBill(t, "RK-EO-"+strconv.Itoa(i+j), "SKU-RED-M")
		}
		work <- bills
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if n := s.sim.Len(FormReturnStock); n != total {
		t.Fatalf("the site holds %d bills, want %d", n, total)
	}
	for i := range total {
		if n := s.sim.Count(FormReturnStock, "RK-EO-"+strconv.Itoa(i)); n != 1 {
			t.Fatalf("RK-EO-%d held %d times", i, n)
		}
	}
	got := f.Injected()
	for _, k := range []simfault.Kind{simfault.LoseAnswer, simfault.ServerError, simfault.Throttle, simfault.SessionLoss} {
		if got[k] == 0 {
			t.Errorf("no %s fault was injected", k)
		}
	}
	t.Logf("faults injected: %v; logins %d", got, c.Logins())
}

func writeOnce(ctx context.Context, c *Client, bills []connector.Bill) error {
	pending := bills
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt == 40 {
			return &connector.CallError{Class: connector.Retry, Message: "40 attempts were not enough"}
		}
		res, err := c.Write(ctx, FormReturnStock, pending)
		switch connector.ClassOf(err) {
		case "":
		case connector.Unknown:
			nos := make([]string, len(pending))
			for i, b := range pending {
				nos[i] = b.No
			}
			found, ferr := c.FindMany(ctx, FormReturnStock, nos)
			if ferr != nil {
				continue // verify again on the next round
			}
			var rest []connector.Bill
			for _, b := range pending {
				if _, ok := found[b.No]; !ok {
					rest = append(rest, b)
				}
			}
			pending = rest
			continue
		case connector.SlowDown, connector.Retry:
			time.Sleep(time.Millisecond)
			continue
		default:
			return err
		}
		var rest []connector.Bill
		for i, r := range res {
			switch {
			case r.Duplicate:
				if _, found, ferr := c.Find(ctx, FormReturnStock, r.No); ferr != nil || !found {
					rest = append(rest, pending[i])
				}
			case r.Err != nil && r.Err.Class == connector.Permanent:
				return r.Err
			case r.Err != nil:
				rest = append(rest, pending[i])
			}
		}
		pending = rest
	}
	return nil
}
