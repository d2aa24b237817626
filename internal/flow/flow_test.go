package flow

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"orderhub/internal/connector"
	"orderhub/internal/jobs"
	"orderhub/internal/order"
	"orderhub/internal/store"
)

// fakeTarget is an ERP that holds bills by number and misbehaves on cue.
type fakeTarget struct {
	mu     sync.Mutex
	bills  map[string]string // number → id
	bodies map[string]map[string]any
	calls  int
	finds  int
	// refuse lists materials the target does not know.
	refuse map[string]bool
	// loseNext writes the next call and then answers nothing.
	loseNext bool
	// throttleNext refuses the next call as throttled.
	throttleNext bool
	// failNext fails the next n calls before sending (connection refused).
	failNext int
	// crashAfterWrite writes the next call's bills and then panics, as a
	// node killed before it recorded the answer.
	crashAfterWrite bool
	// allowDup takes a second bill with a taken number, as an account
	// without unique numbering does; writes counts them.
	allowDup bool
	writes   map[string]int
}

func newTarget() *fakeTarget {
	return &fakeTarget{bills: map[string]string{}, bodies: map[string]map[string]any{}, refuse: map[string]bool{}, writes: map[string]int{}}
}

func (t *fakeTarget) Write(_ context.Context, api string, bills []connector.Bill) ([]connector.WriteResult, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls++
	if t.failNext > 0 {
		t.failNext--
		return nil, &connector.CallError{Class: connector.Retry, Message: "connection refused"}
	}
	if t.throttleNext {
		t.throttleNext = false
		return nil, &connector.CallError{Class: connector.SlowDown, Code: "429", RetryAfter: 7 * time.Second}
	}
	out := make([]connector.WriteResult, len(bills))
	for i, b := range bills {
		out[i].No = b.No
		mat, _ := b.Body["material"].(string)
		switch {
		case t.refuse[mat]:
			out[i].Err = &connector.CallError{Class: connector.Permanent, Code: "11", Field: "material", Message: "物料 " + mat + " 不存在", Hint: "在金蝶新增物料"}
		case b.ID != "":
			t.bodies[b.No] = b.Body
			out[i].ID = b.ID
		case t.bills[b.No] != "" && !t.allowDup:
			out[i].Duplicate = true
		default:
			id := fmt.Sprintf("ID-%d", len(t.bills)+1)
			t.bills[b.No], t.bodies[b.No] = id, b.Body
			t.writes[b.No]++
			out[i].ID = id
		}
	}
	if t.crashAfterWrite {
		t.crashAfterWrite = false
		panic(errCrash)
	}
	if t.loseNext {
		t.loseNext = false
		return nil, &connector.CallError{Class: connector.Unknown, Message: "connection reset after the request was sent"}
	}
	return out, nil
}

func (t *fakeTarget) Find(_ context.Context, api, no string) (string, bool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.finds++
	id, ok := t.bills[no]
	return id, ok, nil
}

// fakeMapper maps the order's first item SKU to the bill's material and
// leaves out orders whose remark is "skip".
type fakeMapper struct{}

func (fakeMapper) Map(raw []byte, o *order.Order) (connector.Bill, bool, error) {
	if o.Remark == "skip" {
		return connector.Bill{}, false, nil
	}
	if len(o.Items) == 0 {
		return connector.Bill{}, false, fmt.Errorf("material: goods_list is empty")
	}
	return connector.Bill{No: o.OrderNo, Body: map[string]any{"billno": o.OrderNo, "material": o.Items[0].SKU, "total": o.Total.String()}}, true, nil
}

type flowEnv struct {
	t      *testing.T
	store  *store.Store
	stage  *Stage
	target *fakeTarget
	flow   *Flow
	disp   *jobs.Dispatcher
	clock  time.Time
	rev    int
}

func newFlowEnv(t *testing.T, api connector.WriteAPI) *flowEnv {
	t.Helper()
	st, err := store.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "flow.db"), store.Options{Synchronous: "NORMAL"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &flowEnv{t: t, store: st, target: newTarget(), clock: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)}
	e.flow = &Flow{Name: "trades_to_erp", Source: "wdt_trades", Target: "erp", API: api, Writer: e.target, Mapper: fakeMapper{}, Attempts: 3}
	e.stage = NewStage(st, slog.New(slog.NewTextHandler(io.Discard, nil)), nil, []*Flow{e.flow})
	e.stage.SetClock(func() time.Time { return e.clock })
	e.disp = jobs.NewDispatcher(st, nil, e.stage)
	return e
}

// put stores a version of an order from the flow's source and hands its
// events to the stage.
func (e *flowEnv) put(no, sku string, total order.Money, remark string) {
	e.t.Helper()
	e.rev++
	o := order.Order{Source: "wdt_trades", OrderNo: no, Status: order.StatusPaid, Currency: "CNY", Total: total, Remark: remark,
		Items:     []order.Item{{SKU: sku, Quantity: 1, UnitPrice: total, Total: total}},
		CreatedAt: e.clock, UpdatedAt: e.clock.Add(time.Duration(e.rev) * time.Second)}
	raw, _ := json.Marshal(map[string]any{"trade_no": no, "rev": e.rev})
	if _, err := e.store.Apply(context.Background(), []store.Incoming{{Order: o, Raw: raw, ReceivedAt: e.clock}}, nil); err != nil {
		e.t.Fatal(err)
	}
	if err := e.disp.Drain(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func (e *flowEnv) drain() {
	e.t.Helper()
	if _, err := e.stage.Drain(context.Background(), e.flow); err != nil {
		e.t.Fatal(err)
	}
}

func (e *flowEnv) item(no string) store.FlowItem {
	e.t.Helper()
	items, err := e.store.ListFlowItems(context.Background(), store.FlowFilter{Flow: e.flow.Name, Source: "wdt_trades", OrderNo: no})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(items) != 1 {
		e.t.Fatalf("order %s has %d items in the flow, want 1", no, len(items))
	}
	return items[0]
}

func (e *flowEnv) stages(no string) []string {
	e.t.Helper()
	rec, err := e.store.GetOrder(context.Background(), "wdt_trades", no)
	if err != nil {
		e.t.Fatal(err)
	}
	steps, err := e.store.Timeline(context.Background(), rec.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, s := range steps {
		out = append(out, s.Stage)
	}
	return out
}

var batchAPI = connector.WriteAPI{Name: "SAL_RETURNSTOCK", MaxBatch: 50, Batch: 50}

func TestWritesEachBillOnce(t *testing.T) {
	e := newFlowEnv(t, batchAPI)
	for i := range 120 {
		e.put(fmt.Sprintf("T%03d", i), "SKU-1", 1000, "")
	}
	e.drain()
	if len(e.target.bills) != 120 {
		t.Fatalf("the target holds %d bills, want 120", len(e.target.bills))
	}
	if e.target.calls != 3 {
		t.Fatalf("%d calls for 120 bills in batches of 50, want 3", e.target.calls)
	}
	it := e.item("T007")
	if it.State != store.FlowDone || it.TargetID == "" || it.BillNo != "T007" || it.DoneVersion != 1 {
		t.Fatalf("item = %+v, want done with the target's id", it)
	}
	if got := strings.Join(e.stages("T007"), ","); got != "received,mapped,written" {
		t.Fatalf("timeline = %s", got)
	}
	e.drain() // nothing due
	if e.target.calls != 3 {
		t.Fatalf("a second drain called the target again")
	}
}

// After a lost answer the writer asks the target before writing again, and
// finds the bill that the lost call wrote.
func TestUnknownOutcomeIsVerified(t *testing.T) {
	e := newFlowEnv(t, batchAPI)
	e.put("U1", "SKU-1", 1000, "")
	e.target.loseNext = true
	e.drain()
	it := e.item("U1")
	if it.State != store.FlowVerify || it.Attempts != 1 {
		t.Fatalf("after a lost answer: %+v, want verify with one attempt", it)
	}
	e.clock = e.clock.Add(time.Minute)
	calls := e.target.calls
	e.drain()
	it = e.item("U1")
	if it.State != store.FlowDone || it.TargetID != e.target.bills["U1"] {
		t.Fatalf("after verifying: %+v", it)
	}
	if e.target.calls != calls {
		t.Fatal("the writer wrote again instead of finding the bill")
	}
	if len(e.target.bills) != 1 {
		t.Fatalf("the target holds %d bills", len(e.target.bills))
	}
}

var errCrash = fmt.Errorf("the node died")

// A node that dies after the target took its bills and before it recorded
// the answer leaves them marked in flight: the next run finds them at the
// target instead of writing them again, even where the target would take a
// second bill with the same number.
func TestCrashBetweenWriteAndRecord(t *testing.T) {
	e := newFlowEnv(t, batchAPI)
	e.target.allowDup = true
	for i := range 10 {
		e.put(fmt.Sprintf("K%02d", i), "SKU-1", 1000, "")
	}
	e.target.crashAfterWrite = true
	func() {
		defer func() {
			if r := recover(); r != errCrash {
				t.Fatalf("recovered %v, want the simulated crash", r)
			}
		}()
		e.drain()
	}()
	if it := e.item("K03"); it.State != store.FlowVerify {
		t.Fatalf("after the crash the item is %s, want verify (marked in flight before the call)", it.State)
	}
	e.drain()
	for i := range 10 {
		no := fmt.Sprintf("K%02d", i)
		if n := e.target.writes[no]; n != 1 {
			t.Errorf("bill %s written %d times", no, n)
		}
		if it := e.item(no); it.State != store.FlowDone || it.TargetID == "" {
			t.Errorf("item %s = %+v", no, it)
		}
	}
}

// A "number exists" answer is confirmed and counted written.
func TestDuplicateIsConfirmed(t *testing.T) {
	e := newFlowEnv(t, batchAPI)
	e.target.bills["D1"] = "ID-EXISTING"
	e.put("D1", "SKU-1", 1000, "")
	e.drain()
	it := e.item("D1")
	if it.State != store.FlowDone || it.TargetID != "ID-EXISTING" {
		t.Fatalf("item = %+v, want done with the existing bill's id", it)
	}
}

// A business refusal waits as an exception with the target's message; once
// the data is fixed, a retry writes it.
func TestRefusalBecomesExceptionAndRetries(t *testing.T) {
	e := newFlowEnv(t, batchAPI)
	e.target.refuse["SKU-NEW"] = true
	e.put("R1", "SKU-NEW", 1000, "")
	e.put("R2", "SKU-1", 1000, "")
	e.drain()
	it := e.item("R1")
	if it.State != store.FlowException || it.Error.Message != "物料 SKU-NEW 不存在" || it.Error.Hint == "" || it.Error.Field != "material" {
		t.Fatalf("refused item = %+v", it)
	}
	if !strings.Contains(it.Request, `"material":"SKU-NEW"`) {
		t.Fatalf("the exception does not keep the request sent: %q", it.Request)
	}
	if e.item("R2").State != store.FlowDone {
		t.Fatal("a good bill in the same batch was not written")
	}
	if err := e.stage.Retry(context.Background(), 999999); err == nil {
		t.Fatal("retrying an unknown exception succeeded")
	}
	if err := e.stage.Retry(context.Background(), e.item("R2").ID); err == nil {
		t.Fatal("retrying a written item succeeded")
	}
	delete(e.target.refuse, "SKU-NEW") // a person added the material
	if err := e.stage.Retry(context.Background(), it.ID); err != nil {
		t.Fatal(err)
	}
	e.drain()
	if it := e.item("R1"); it.State != store.FlowDone || it.Error.Message != "" {
		t.Fatalf("after the retry: %+v", it)
	}
	if got := strings.Join(e.stages("R1"), ","); got != "received,mapped,refused,retried,mapped,written" {
		t.Fatalf("timeline = %s", got)
	}
}

func TestSkip(t *testing.T) {
	e := newFlowEnv(t, batchAPI)
	e.target.refuse["SKU-X"] = true
	e.put("S1", "SKU-X", 1000, "")
	e.drain()
	if err := e.stage.Skip(context.Background(), e.item("S1").ID); err != nil {
		t.Fatal(err)
	}
	if it := e.item("S1"); it.State != store.FlowSkipped {
		t.Fatalf("item = %+v", it)
	}
	e.drain()
	if len(e.target.bills) != 0 {
		t.Fatal("a skipped item was written")
	}
}

// Throttling puts the batch off as long as the target asked, without
// spending an attempt; transport errors back off and turn into an
// exception when the attempts are spent.
func TestThrottleAndRetriesSpent(t *testing.T) {
	e := newFlowEnv(t, batchAPI)
	e.put("P1", "SKU-1", 1000, "")
	e.target.throttleNext = true
	e.drain()
	it := e.item("P1")
	if it.State != store.FlowPending || it.Attempts != 0 || !it.NextAt.Equal(e.clock.Add(7*time.Second)) {
		t.Fatalf("after a throttle: %+v, want pending, no attempt spent, due in 7s", it)
	}
	e.target.failNext = 3
	for i := range 3 {
		e.clock = e.clock.Add(time.Hour)
		e.drain()
		if i < 2 && e.item("P1").State != store.FlowPending {
			t.Fatalf("after failure %d: %+v", i+1, e.item("P1"))
		}
	}
	if it := e.item("P1"); it.State != store.FlowException || it.Error.Class != "retry" {
		t.Fatalf("after the attempts are spent: %+v", it)
	}
}

// A new version of a written document updates the bill where the API can,
// is an exception where it cannot, and is no call at all when it maps to
// the same bill.
func TestNewVersions(t *testing.T) {
	update := connector.WriteAPI{Name: "sal_order_save", MaxBatch: 1, Batch: 1, CanUpdate: true}
	e := newFlowEnv(t, update)
	e.put("V1", "SKU-1", 1000, "")
	e.drain()
	id := e.item("V1").TargetID
	e.put("V1", "SKU-1", 1000, "note") // a remark change the mapping ignores
	e.drain()
	if it := e.item("V1"); it.State != store.FlowDone || it.DoneVersion != 2 || e.target.calls != 1 {
		t.Fatalf("an unchanged bill: %+v after %d calls", it, e.target.calls)
	}
	e.put("V1", "SKU-1", 2000, "note")
	e.drain()
	if it := e.item("V1"); it.State != store.FlowDone || it.TargetID != id || e.target.bodies["V1"]["total"] != "20.00" {
		t.Fatalf("an updated bill: %+v, body %v", it, e.target.bodies["V1"])
	}

	e2 := newFlowEnv(t, batchAPI)
	e2.put("V2", "SKU-1", 1000, "")
	e2.drain()
	e2.put("V2", "SKU-1", 3000, "")
	e2.drain()
	if it := e2.item("V2"); it.State != store.FlowException || it.Error.Code != "cannot_update" {
		t.Fatalf("a changed bill the API cannot update: %+v", it)
	}
}

func TestFilteredAndMappingErrors(t *testing.T) {
	e := newFlowEnv(t, batchAPI)
	e.put("F1", "SKU-1", 1000, "skip")
	e.drain()
	if it := e.item("F1"); it.State != store.FlowFiltered {
		t.Fatalf("item = %+v, want filtered", it)
	}
	// An order with no lines fails its mapping: an exception naming it.
	o := order.Order{Source: "wdt_trades", OrderNo: "M1", Status: order.StatusPaid, Currency: "CNY", CreatedAt: e.clock, UpdatedAt: e.clock}
	if _, err := e.store.Apply(context.Background(), []store.Incoming{{Order: o, Raw: []byte(`{}`), ReceivedAt: e.clock}}, nil); err != nil {
		t.Fatal(err)
	}
	if err := e.disp.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.drain()
	if it := e.item("M1"); it.State != store.FlowException || it.Error.Code != "mapping" || !strings.Contains(it.Error.Message, "goods_list") {
		t.Fatalf("item = %+v, want a mapping exception", it)
	}
	if len(e.target.bills) != 0 {
		t.Fatal("a filtered or unmappable document was written")
	}
}

// docMapper maps from the source document only and says so, or says it
// reads the order as well.
type docMapper struct {
	usesOrder bool
	seen      []string // the order numbers Map was given
}

func (m *docMapper) UsesOrder() bool { return m.usesOrder }

func (m *docMapper) Map(raw []byte, o *order.Order) (connector.Bill, bool, error) {
	var doc struct {
		TradeNo string `json:"trade_no"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return connector.Bill{}, false, err
	}
	m.seen = append(m.seen, o.OrderNo)
	return connector.Bill{No: doc.TradeNo, Body: map[string]any{"billno": doc.TradeNo, "material": "SKU-1"}}, true, nil
}

// A mapper that reads only the source document is not handed the decoded
// order (the writer skips decoding it); one that reads the order is.
func TestOrderDecodedOnlyForMappersThatUseIt(t *testing.T) {
	for _, tc := range []struct {
		usesOrder bool
		wantSeen  string
	}{{false, ""}, {true, "M1"}} {
		e := newFlowEnv(t, batchAPI)
		m := &docMapper{usesOrder: tc.usesOrder}
		e.flow.Mapper = m
		e.put("M1", "SKU-1", 1000, "")
		e.drain()
		if it := e.item("M1"); it.State != store.FlowDone || it.BillNo != "M1" {
			t.Errorf("uses order %v: item %+v; want written as M1", tc.usesOrder, it)
		}
		if len(m.seen) != 1 || m.seen[0] != tc.wantSeen {
			t.Errorf("uses order %v: Map was given orders %q; want [%q]", tc.usesOrder, m.seen, tc.wantSeen)
		}
	}
}

// A writer that has run out of items waits for more, and the items the
// flows consumer of this process commits are written at once: here the
// writer never looks on its own (its idle poll is an hour), so only the
// consumer's wake-up can bring them. It returns when its run is cancelled.
func TestWriterWaitsAndIsWokenByTheConsumer(t *testing.T) {
	e := newFlowEnv(t, batchAPI)
	e.stage.linger, e.stage.idlePoll = time.Hour, time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	worked := make(chan error, 1)
	w := &writeWorker{st: e.stage}
	go func() {
		worked <- w.Work(ctx, &river.Job[WriteArgs]{JobRow: &rivertype.JobRow{ID: 1}, Args: WriteArgs{Flow: e.flow.Name}})
	}()
	for i, no := range []string{"L1", "L2"} {
		e.put(no, "SKU-1", 1000, "")
		bound := time.After(30 * time.Second) // for a broken wake-up, not a speed
		for {
			e.target.mu.Lock()
			n := len(e.target.bills)
			e.target.mu.Unlock()
			if n == i+1 {
				break
			}
			select {
			case err := <-worked:
				t.Fatalf("the writer ended (%v) instead of waiting for items", err)
			case <-bound:
				t.Fatalf("%s was not written after the consumer committed its item", no)
			case <-time.After(5 * time.Millisecond):
			}
		}
	}
	cancel()
	if err := <-worked; err != nil {
		t.Fatal(err)
	}
	if got := e.item("L2"); got.State != store.FlowDone {
		t.Fatalf("L2 = %+v, want done", got)
	}
}
