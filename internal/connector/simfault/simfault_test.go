package simfault

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestDrawCountsDown(t *testing.T) {
	var in Injector
	in.Inject(Fault{Kind: Throttle, Count: 2})
	r := httptest.NewRequest(http.MethodPost, "/x", nil)
	got := []bool{in.Draw(r).Has(Throttle), in.Draw(r).Has(Throttle), in.Draw(r).Has(Throttle)}
	if want := []bool{true, true, false}; got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("throttle draws = %v, want %v", got, want)
	}
	if n := in.Injected()[Throttle]; n != 2 {
		t.Fatalf("injected %d throttles, want 2", n)
	}
}

func TestRateIsRepeatable(t *testing.T) {
	draw := func() int {
		var in Injector
		in.Seed(7)
		in.Inject(Fault{Kind: ServerError, Rate: 0.25})
		r := httptest.NewRequest(http.MethodPost, "/x", nil)
		n := 0
		for range 1000 {
			if in.Draw(r).Has(ServerError) {
				n++
			}
		}
		return n
	}
	a, b := draw(), draw()
	if a != b {
		t.Fatalf("same seed drew %d and %d faults", a, b)
	}
	if a < 180 || a > 320 {
		t.Fatalf("rate 0.25 drew %d of 1000", a)
	}
}

func TestMatchLimitsFault(t *testing.T) {
	var in Injector
	in.Inject(Fault{Kind: ServerError, Match: func(r *http.Request) bool { return r.URL.Path == "/save" }})
	if in.Draw(httptest.NewRequest(http.MethodPost, "/query", nil)).Has(ServerError) {
		t.Fatal("fault hit a request its Match refused")
	}
	if !in.Draw(httptest.NewRequest(http.MethodPost, "/save", nil)).Has(ServerError) {
		t.Fatal("fault missed a matching request")
	}
}

func TestBeforeServerError(t *testing.T) {
	var in Injector
	in.Inject(Fault{Kind: ServerError, Count: 1})
	r := httptest.NewRequest(http.MethodPost, "/x", nil)
	w := httptest.NewRecorder()
	if !in.Draw(r).Before(w, r) || w.Code != http.StatusBadGateway {
		t.Fatalf("server error: handled=false or status %d", w.Code)
	}
	w = httptest.NewRecorder()
	if in.Draw(r).Before(w, r) {
		t.Fatal("a spent fault still handled the request")
	}
}
