package k3cloud

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"orderhub/internal/connector"
)

// The write path is measured against a baseline run side by side: the
// same client and loopback HTTP, but a server that only reads the body and
// returns a ready-made answer. Their ratio is what the simulator's own
// work (decoding, validation, storing) costs.

func benchBills(b *testing.B, iter, n int) []connector.Bill {
	body := samplePacket(b)
	delete(body, "FBillNo")
	bills := make([]connector.Bill, n)
	for j := range bills {
		bills[j] = connector.Bill{No: "RK-BENCH-" + strconv.Itoa(iter*n+j), Body: body}
	}
	return bills
}

func benchWrite(b *testing.B, h http.Handler, sim *Sim) {
	srv := httptest.NewServer(h)
	defer srv.Close()
	c, err := New(Config{BaseURL: srv.URL + "/k3cloud", AcctID: "63f2a1b0c9d8e7", Username: "apiuser", Password: "k3-sim-password", HTTP: srv.Client()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	const n = 50
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		res, err := c.Write(ctx, FormReturnStock, benchBills(b, i, n))
		if err != nil || res[n-1].Err != nil {
			b.Fatal(err, res[n-1].Err)
		}
		i++
	}
	b.ReportMetric(float64(i*n)/b.Elapsed().Seconds(), "bills/s")
	if sim != nil && sim.Len(FormReturnStock) != i*n {
		b.Fatalf("the simulator holds %d bills, want %d", sim.Len(FormReturnStock), i*n)
	}
}

func BenchmarkWriteBatch50(b *testing.B) {
	b.Run("simulator", func(b *testing.B) {
		sim := NewSim(SimConfig{})
		sim.AddMaterials("SKU-RED-M")
		sim.AddCustomers("SHOP-A")
		sim.AddStocks("WH-1")
		benchWrite(b, sim, sim)
	})
	b.Run("baseline", func(b *testing.B) {
		// Logins go to a real simulator; BatchSave gets a fixed answer.
		sim := NewSim(SimConfig{})
		st := &ResponseStatus{IsSuccess: true, Errors: []ErrorItem{}, SuccessMessages: []any{}}
		for j := range 50 {
			st.SuccessEntitys = append(st.SuccessEntitys, SuccessEntity{ID: FlexString(strconv.Itoa(100001 + j)), Number: "RK", DIndex: j})
		}
		answer, _ := json.Marshal(map[string]any{"Result": map[string]any{"ResponseStatus": st}})
		benchWrite(b, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !strings.Contains(r.URL.Path, "BatchSave") {
				sim.ServeHTTP(w, r)
				return
			}
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Write(answer)
		}), nil)
	})
}

// BenchmarkSimBatchSave50 is the simulator's own ceiling: its handler
// called directly with a ready BatchSave body of 50 packets.
func BenchmarkSimBatchSave50(b *testing.B) {
	sim := NewSim(SimConfig{})
	sim.AddMaterials("SKU-RED-M")
	sim.AddCustomers("SHOP-A")
	sim.AddStocks("WH-1")
	sid := sim.newSession()
	c := &Client{cfg: Config{}}
	const n = 50
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		bills := benchBills(b, i, n)
		packets := make([]map[string]any, n)
		for j, bl := range bills {
			p, _ := c.packet("bench", bl)
			packets[j] = p
		}
		body, _ := json.Marshal(request{FormID: FormReturnStock, Data: SaveData{NeedReturnFields: []string{"FBillNo"}, IsDeleteEntry: true, Model: packets}})
		req := httptest.NewRequest(http.MethodPost, "/k3cloud/"+ServiceBatchSave+ServiceSuffix, strings.NewReader(string(body)))
		req.Header.Set(SessionCookie, sid)
		w := httptest.NewRecorder()
		sim.ServeHTTP(w, req)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"IsSuccess":true`) {
			b.Fatalf("%d %s", w.Code, w.Body.String())
		}
		i++
	}
	b.ReportMetric(float64(i*n)/b.Elapsed().Seconds(), "bills/s")
}
