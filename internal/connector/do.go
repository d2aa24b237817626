package connector

import (
	"io"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
)

// MaxAnswer is the largest answer body a connector reads; a provider that
// sends more is misbehaving.
const MaxAnswer = 32 << 20

// Do sends req and reads the whole answer. A transport failure comes back
// as a *CallError classified by whether the request had been written: a
// connection refused is Retry, a timeout or reset after the write is
// Unknown. The status is returned as is; the connector reads its
// provider's codes from the body.
func Do(client *http.Client, system, op string, req *http.Request) (status int, body []byte, err error) {
	var sent atomic.Bool
	trace := &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			sent.Store(true)
		}
	}}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, TransportError(system, op, err, sent.Load())
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, MaxAnswer))
	if err != nil {
		// The provider answered and then the connection broke: whatever the
		// call did, it did.
		return 0, nil, TransportError(system, op, err, true)
	}
	return resp.StatusCode, body, nil
}
