// Package connectortest is the conformance suite every connector runs
// against its own simulator, as storetest is for the store: paging a
// window, the classification of failures, idempotent writes, verification
// after a lost answer, business refusals with a Chinese hint. A connector
// is done when the suite passes.
package connectortest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/connector/simfault"
)

// PullSetup is one puller pointed at its simulator.
type PullSetup struct {
	Puller connector.Puller
	API    connector.PullAPI
	// Faults is the simulator's injector.
	Faults *simfault.Injector
	// From and To bound a window (within API.MaxSpan) that the simulator's
	// seeded data fills with more than two pages of PageSize documents.
	From, To time.Time
	PageSize int
	// Want is the number of every document modified within [From, To].
	Want []string
	// BadCredentials is a puller of the same system with a wrong secret.
	BadCredentials connector.Puller
}

// RunPull runs the puller conformance suite. setup is called once per
// subtest, so each starts from a fresh simulator.
func RunPull(t *testing.T, setup func(t *testing.T) PullSetup) {
	t.Run("PagesThroughAWindow", func(t *testing.T) {
		s := setup(t)
		if len(s.Want) <= 2*s.PageSize {
			t.Fatalf("the window holds %d documents; the suite needs more than two pages of %d", len(s.Want), s.PageSize)
		}
		seen := map[string]int{}
		total := -1
		for page := 0; ; page++ {
			p, err := s.Puller.Pull(context.Background(), connector.PullRequest{API: s.API.Name, From: s.From, To: s.To, PageNo: page, PageSize: s.PageSize})
			if err != nil {
				t.Fatalf("page %d: %v", page, err)
			}
			if page == 0 {
				total = p.Total
			}
			for _, d := range p.Docs {
				checkDoc(t, d, s.From, s.To)
				seen[d.Order.OrderNo]++
			}
			for _, r := range p.Refused {
				t.Errorf("page %d: document %s refused: %s", page, r.No, r.Reason)
			}
			if p.Len() < s.PageSize || (page+1)*s.PageSize >= total {
				break
			}
			if page > len(s.Want) {
				t.Fatal("paging does not end")
			}
		}
		if total != len(s.Want) {
			t.Errorf("page 0 said the window holds %d documents, want %d", total, len(s.Want))
		}
		for _, no := range s.Want {
			if seen[no] != 1 {
				t.Errorf("document %s read %d times, want once", no, seen[no])
			}
		}
		if len(seen) != len(s.Want) {
			t.Errorf("read %d distinct documents, want %d", len(seen), len(s.Want))
		}
	})
	t.Run("ThrottlingIsSlowDown", func(t *testing.T) {
		s := setup(t)
		s.Faults.Inject(simfault.Fault{Kind: simfault.Throttle, Count: 1})
		_, err := s.Puller.Pull(context.Background(), connector.PullRequest{API: s.API.Name, From: s.From, To: s.To, PageSize: s.PageSize})
		wantClass(t, err, connector.SlowDown)
		if _, err := s.Puller.Pull(context.Background(), connector.PullRequest{API: s.API.Name, From: s.From, To: s.To, PageSize: s.PageSize}); err != nil {
			t.Fatalf("after the throttle: %v", err)
		}
	})
	t.Run("ServerErrorIsRetry", func(t *testing.T) {
		s := setup(t)
		s.Faults.Inject(simfault.Fault{Kind: simfault.ServerError, Count: 1})
		_, err := s.Puller.Pull(context.Background(), connector.PullRequest{API: s.API.Name, From: s.From, To: s.To, PageSize: s.PageSize})
		wantClass(t, err, connector.Retry)
	})
	t.Run("BadCredentialsArePermanent", func(t *testing.T) {
		s := setup(t)
		_, err := s.BadCredentials.Pull(context.Background(), connector.PullRequest{API: s.API.Name, From: s.From, To: s.To, PageSize: s.PageSize})
		ce := wantClass(t, err, connector.Permanent)
		if ce != nil && ce.Hint == "" {
			t.Error("a refused login carries no hint of what to fix")
		}
	})
	t.Run("WindowWiderThanTheAPIIsRefused", func(t *testing.T) {
		s := setup(t)
		_, err := s.Puller.Pull(context.Background(), connector.PullRequest{API: s.API.Name, From: s.From, To: s.From.Add(s.API.MaxSpan + time.Hour), PageSize: s.PageSize})
		wantClass(t, err, connector.Permanent)
	})
	t.Run("PageLargerThanTheAPIIsRefused", func(t *testing.T) {
		s := setup(t)
		_, err := s.Puller.Pull(context.Background(), connector.PullRequest{API: s.API.Name, From: s.From, To: s.To, PageSize: s.API.PageSize + 1})
		wantClass(t, err, connector.Permanent)
	})
}

func checkDoc(t *testing.T, d connector.Document, from, to time.Time) {
	t.Helper()
	if d.Order.OrderNo == "" {
		t.Errorf("a document has no number: %s", d.Raw)
	}
	if d.Order.UpdatedAt.IsZero() || d.Order.UpdatedAt.Before(from) || d.Order.UpdatedAt.After(to) {
		t.Errorf("document %s modified %v, outside the window [%v, %v]", d.Order.OrderNo, d.Order.UpdatedAt, from, to)
	}
	if !json.Valid(d.Raw) {
		t.Errorf("document %s: raw is not JSON", d.Order.OrderNo)
	}
}

// WriteSetup is one writer pointed at its simulator.
type WriteSetup struct {
	Writer connector.Writer
	API    connector.WriteAPI
	Faults *simfault.Injector
	// Good builds a bill the simulator accepts; Bad one it refuses for a
	// business reason (an unknown material, say).
	Good, Bad func(no string) connector.Bill
	// Stored reports how many bills with this number the simulator holds.
	Stored func(no string) int
	// BadCredentials is a writer of the same system with a wrong secret.
	BadCredentials connector.Writer
}

// RunWrite runs the writer conformance suite.
func RunWrite(t *testing.T, setup func(t *testing.T) WriteSetup) {
	ctx := context.Background()
	write := func(t *testing.T, s WriteSetup, bills ...connector.Bill) []connector.WriteResult {
		t.Helper()
		res, err := s.Writer.Write(ctx, s.API.Name, bills)
		if err != nil {
			t.Fatalf("write %v: %v", nos(bills), err)
		}
		if len(res) != len(bills) {
			t.Fatalf("write of %d bills gave %d results", len(bills), len(res))
		}
		for i := range res {
			if res[i].No != bills[i].No {
				t.Fatalf("result %d is for %s, want %s (results must keep the bills' order)", i, res[i].No, bills[i].No)
			}
		}
		return res
	}
	t.Run("WritesAndFinds", func(t *testing.T) {
		s := setup(t)
		r := write(t, s, s.Good("OH-W-1"))[0]
		if r.Err != nil || r.Duplicate || r.ID == "" {
			t.Fatalf("good bill: %+v", r)
		}
		id, found, err := s.Writer.Find(ctx, s.API.Name, "OH-W-1")
		if err != nil || !found || id != r.ID {
			t.Fatalf("Find after the write = %q, %v, %v; want %q, true", id, found, err, r.ID)
		}
		if _, found, err := s.Writer.Find(ctx, s.API.Name, "OH-NEVER-WRITTEN"); err != nil || found {
			t.Fatalf("Find of an unknown bill = %v, %v; want false, nil", found, err)
		}
	})
	t.Run("SecondWriteIsDuplicate", func(t *testing.T) {
		s := setup(t)
		first := write(t, s, s.Good("OH-W-2"))[0]
		again := write(t, s, s.Good("OH-W-2"))[0]
		if !again.Duplicate {
			t.Fatalf("writing an existing number again: %+v; want Duplicate", again)
		}
		if n := s.Stored("OH-W-2"); n != 1 {
			t.Fatalf("the simulator holds %d bills OH-W-2, want 1", n)
		}
		if id, found, _ := s.Writer.Find(ctx, s.API.Name, "OH-W-2"); !found || id != first.ID {
			t.Fatalf("Find = %q, %v; want %q", id, found, first.ID)
		}
	})
	t.Run("BusinessRefusalIsPermanentWithHint", func(t *testing.T) {
		s := setup(t)
		r := write(t, s, s.Bad("OH-W-3"))[0]
		if r.Err == nil {
			t.Fatal("a bad bill was accepted")
		}
		if r.Err.Class != connector.Permanent || r.Err.Message == "" || r.Err.Hint == "" {
			t.Fatalf("refusal = %+v; want Permanent with the provider's message and a hint", r.Err)
		}
		if n := s.Stored("OH-W-3"); n != 0 {
			t.Fatalf("a refused bill is stored %d times", n)
		}
	})
	t.Run("BatchResultsPerBill", func(t *testing.T) {
		s := setup(t)
		if s.API.MaxBatch < 3 {
			t.Skipf("%s takes %d bill(s) a call", s.API.Name, s.API.MaxBatch)
		}
		res := write(t, s, s.Good("OH-B-1"), s.Bad("OH-B-2"), s.Good("OH-B-3"))
		if res[0].Err != nil || res[2].Err != nil || res[1].Err == nil {
			t.Fatalf("mixed batch: %+v", res)
		}
		if s.Stored("OH-B-1") != 1 || s.Stored("OH-B-3") != 1 || s.Stored("OH-B-2") != 0 {
			t.Fatal("the simulator does not hold exactly the good bills of the batch")
		}
	})
	t.Run("LostAnswerIsUnknownAndFindable", func(t *testing.T) {
		s := setup(t)
		s.Faults.Inject(simfault.Fault{Kind: simfault.LoseAnswer, Count: 1})
		_, err := s.Writer.Write(ctx, s.API.Name, []connector.Bill{s.Good("OH-W-4")})
		wantClass(t, err, connector.Unknown)
		if _, found, err := s.Writer.Find(ctx, s.API.Name, "OH-W-4"); err != nil || !found {
			t.Fatalf("after a lost answer Find = %v, %v; the bill was written", found, err)
		}
	})
	t.Run("ServerErrorIsNeverPermanent", func(t *testing.T) {
		s := setup(t)
		s.Faults.Inject(simfault.Fault{Kind: simfault.ServerError, Count: 1})
		_, err := s.Writer.Write(ctx, s.API.Name, []connector.Bill{s.Good("OH-W-5")})
		if c := connector.ClassOf(err); c != connector.Unknown && c != connector.Retry {
			t.Fatalf("a 5xx on write is %q (%v); want unknown_outcome or retry", c, err)
		}
	})
	t.Run("ThrottlingIsSlowDown", func(t *testing.T) {
		s := setup(t)
		s.Faults.Inject(simfault.Fault{Kind: simfault.Throttle, Count: 1})
		_, err := s.Writer.Write(ctx, s.API.Name, []connector.Bill{s.Good("OH-W-6")})
		wantClass(t, err, connector.SlowDown)
		if n := s.Stored("OH-W-6"); n != 0 {
			t.Fatalf("a throttled write stored the bill %d times", n)
		}
	})
	t.Run("LostSessionIsRenewed", func(t *testing.T) {
		s := setup(t)
		write(t, s, s.Good("OH-W-7")) // logs in
		s.Faults.Inject(simfault.Fault{Kind: simfault.SessionLoss, Count: 1})
		r := write(t, s, s.Good("OH-W-8"))[0]
		if r.Err != nil {
			t.Fatalf("after the server lost the session: %v", r.Err)
		}
		if n := s.Stored("OH-W-8"); n != 1 {
			t.Fatalf("stored %d times, want 1", n)
		}
	})
	t.Run("BadCredentialsArePermanent", func(t *testing.T) {
		s := setup(t)
		_, err := s.BadCredentials.Write(ctx, s.API.Name, []connector.Bill{s.Good("OH-W-9")})
		ce := wantClass(t, err, connector.Permanent)
		if ce != nil && ce.Hint == "" {
			t.Error("a refused login carries no hint of what to fix")
		}
	})
	t.Run("UpdateByID", func(t *testing.T) {
		s := setup(t)
		if !s.API.CanUpdate {
			t.Skipf("%s bills cannot be updated", s.API.Name)
		}
		first := write(t, s, s.Good("OH-W-10"))[0]
		b := s.Good("OH-W-10")
		b.ID = first.ID
		r := write(t, s, b)[0]
		if r.Err != nil || r.Duplicate {
			t.Fatalf("update by id: %+v", r)
		}
		if n := s.Stored("OH-W-10"); n != 1 {
			t.Fatalf("after an update the simulator holds %d bills, want 1", n)
		}
	})
}

func nos(bills []connector.Bill) []string {
	out := make([]string, len(bills))
	for i, b := range bills {
		out[i] = b.No
	}
	return out
}

func wantClass(t *testing.T, err error, want connector.Class) *connector.CallError {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want a %s error", want)
	}
	ce, ok := connector.AsCallError(err)
	if !ok {
		t.Fatalf("error %v (%T) is not a *connector.CallError", err, err)
	}
	if ce.Class != want {
		t.Fatalf("error class %q, want %q: %v", ce.Class, want, err)
	}
	return ce
}

// ClassCase is one provider answer and the class it must map to.
type ClassCase struct {
	Name string
	Err  error
	Want connector.Class
}

// CheckClasses is the table test each connector runs over its own
// provider's codes.
func CheckClasses(t *testing.T, cases []ClassCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if got := connector.ClassOf(c.Err); got != c.Want {
				t.Fatalf("%v: class %q, want %q", c.Err, got, c.Want)
			}
		})
	}
}
