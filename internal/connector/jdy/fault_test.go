package jdy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/simfault"
)

// writeExactlyOnce is the flow's rule in miniature: after an unknown
// outcome, or a duplicate answer, ask the ERP before writing again.
func writeExactlyOnce(ctx context.Context, c *Client, b connector.Bill) (string, error) {
	for attempt := 0; attempt < 50; attempt++ {
		res, err := c.Write(ctx, APISalOrderSave, []connector.Bill{b})
		if err == nil && res[0].Err == nil {
			return res[0].ID, nil
		}
		if err == nil && res[0].Duplicate {
			id, found, ferr := c.Find(ctx, APISalOrderSave, b.No)
			if ferr == nil && found {
				return id, nil
			}
			continue
		}
		if err == nil {
			return "", res[0].Err
		}
		switch connector.ClassOf(err) {
		case connector.SlowDown:
			if ce, _ := connector.AsCallError(err); ce.RetryAfter <= 0 {
				return "", fmt.Errorf("throttled without a wait: %w", err)
			}
		case connector.Permanent:
			return "", err
		case connector.Unknown:
			for {
				id, found, ferr := c.Find(ctx, APISalOrderSave, b.No)
				if ferr == nil {
					if found {
						return id, nil
					}
					break
				}
				if connector.ClassOf(ferr) == connector.Permanent {
					return "", ferr
				}
			}
		}
	}
	return "", errors.New("retries spent")
}

// TestFaultsLeaveEachBillExactlyOnce writes bills concurrently while the
// simulator loses answers after committing, fails with 502, throttles and
// forgets tokens; afterwards it holds each bill once and none is missing.
// The account does not enforce unique numbers here, so only the client's
// classification and the verify-before-retry rule keep bills single.
func TestFaultsLeaveEachBillExactlyOnce(t *testing.T) {
	p := newSimPair(t, SimConfig{AccountPerMinute: -1, TokenPerMinute: -1, DuplicateBillNoAllowed: true})
	in := p.sim.Faults()
	in.Seed(7)
	for _, f := range []simfault.Fault{
		{Kind: simfault.LoseAnswer, Rate: 0.10},
		{Kind: simfault.ServerError, Rate: 0.05},
		{Kind: simfault.Throttle, Rate: 0.05},
		{Kind: simfault.SessionLoss, Rate: 0.02},
	} {
		in.Inject(f)
	}
	const bills, workers = 400, 8
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	nos := make(chan string)
	var wg sync.WaitGroup
	errs := make(chan error, bills)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for no := range nos {
				if _, err := writeExactlyOnce(ctx, p.client, goodBill(no)); err != nil {
					errs <- fmt.Errorf("%s: %w", no, err)
				}
			}
		}()
	}
	for i := range bills {
		nos <- fmt.Sprintf("JY-F-%04d", i)
	}
	close(nos)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range bills {
		if n := p.sim.Count(fmt.Sprintf("JY-F-%04d", i)); n != 1 {
			t.Errorf("JY-F-%04d held %d times", i, n)
		}
	}
	if p.sim.Len() != bills {
		t.Errorf("the simulator holds %d bills, want %d", p.sim.Len(), bills)
	}
	got := in.Injected()
	for _, k := range []simfault.Kind{simfault.LoseAnswer, simfault.ServerError, simfault.Throttle, simfault.SessionLoss} {
		if got[k] == 0 {
			t.Errorf("no %s fault was injected; the test proves nothing about it", k)
		}
	}
	t.Logf("faults injected: %v; tokens issued: %d", got, p.sim.TokensIssued())
}
