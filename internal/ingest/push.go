package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"orderhub/internal/connector"
	"orderhub/internal/order"
	"orderhub/internal/problem"
	"orderhub/internal/store"
)

// Source is one configured push source.
type Source struct {
	Name     string
	Receiver connector.PushReceiver
	MaxBody  int64
}

// PushHandler serves POST /v1/push/{source}.
type PushHandler struct {
	sources   map[string]*Source
	committer *Committer
	log       *slog.Logger
	metrics   *Metrics
	now       func() time.Time
}

// NewPushHandler serves pushes for sources, committing through c.
func NewPushHandler(sources []*Source, c *Committer, log *slog.Logger, m *Metrics) *PushHandler {
	h := &PushHandler{sources: map[string]*Source{}, committer: c, log: log, metrics: m, now: time.Now}
	for _, s := range sources {
		h.sources[s.Name] = s
	}
	return h
}

// PushAnswer is the body of a successful push.
type PushAnswer struct {
	Source  string       `json:"source"`
	OrderNo string       `json:"order_no"`
	Result  store.Result `json:"result"`
	Version int64        `json:"version"`
	Events  []string     `json:"events"`
	// Warnings: what is odd about the document, accepted as sent anyway
	// (and on the order's timeline).
	Warnings []order.Warning `json:"warnings,omitempty"`
}

// warned logs and counts the warnings of an accepted push.
func (h *PushHandler) warned(source string, pushed *connector.Pushed) {
	for _, w := range pushed.Warnings {
		h.log.Warn("push accepted with a warning", "source", source, "order_no", connector.ForLog(pushed.Order.OrderNo),
			"code", w.Code, "field", connector.ForLog(w.Field), "message", connector.ForLog(w.Message))
		if h.metrics != nil {
			h.metrics.warnings.WithLabelValues(source, w.Code).Inc()
		}
	}
}

// ServeHTTP implements http.Handler; the source name is the path value
// "source".
func (h *PushHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := h.now()
	name := r.PathValue("source")
	src, ok := h.sources[name]
	if !ok {
		h.reject(w, r, "(unknown)", problem.New(http.StatusNotFound, "unknown_source",
			fmt.Sprintf("no push source is named %q", name), h.knownSources()))
		return
	}
	body, p := readBody(w, r, src.MaxBody)
	if p != nil {
		h.reject(w, r, name, p)
		return
	}
	pushed, err := src.Receiver.Receive(&connector.PushRequest{Header: r.Header, Body: body, Now: start})
	if err != nil {
		pr, ok := problem.As(err)
		if !ok {
			pr = problem.New(http.StatusBadRequest, "invalid_document", err.Error(), "")
		}
		h.reject(w, r, name, pr)
		return
	}
	pushed.Order.Source = name
	inc := store.Incoming{Order: pushed.Order, Raw: pushed.Raw, ReceivedAt: start, Warnings: pushed.Warnings}
	if err := inc.Prepare(); err != nil { // here, in parallel, not in the shared commit
		h.fail(w, r, name, err)
		return
	}
	out, err := h.committer.Submit(r.Context(), inc)
	if err != nil {
		h.fail(w, r, name, err)
		return
	}
	ans := PushAnswer{Source: name, OrderNo: pushed.Order.OrderNo, Result: out.Result, Version: out.Version, Events: make([]string, len(out.Events)), Warnings: pushed.Warnings}
	if out.Result != store.ResultDuplicate {
		// A duplicate's warnings were recorded with the first copy.
		h.warned(name, pushed)
	}
	for i, e := range out.Events {
		ans.Events[i] = string(e)
		if h.metrics != nil {
			h.metrics.events.WithLabelValues(string(e)).Inc()
		}
	}
	status := http.StatusOK
	if out.Result == store.ResultCreated {
		status = http.StatusCreated
	}
	writeJSON(w, status, ans)
	if h.metrics != nil {
		h.metrics.pushes.WithLabelValues(name, string(out.Result)).Inc()
		h.metrics.pushLatency.WithLabelValues(name).Observe(time.Since(start).Seconds())
	}
}

func (h *PushHandler) knownSources() string {
	names := make([]string, 0, len(h.sources))
	for n := range h.sources {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "no push sources are configured; add one under sources: with mode: push"
	}
	return "push to one of: " + strings.Join(names, ", ")
}

// readBody reads at most limit bytes; a larger body is a 413.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, *problem.Problem) {
	tooLarge := func() *problem.Problem {
		return problem.New(http.StatusRequestEntityTooLarge, "body_too_large",
			fmt.Sprintf("the body is larger than this source's limit of %d bytes", limit),
			"send one order per request, or raise max_body for this source")
	}
	if r.ContentLength > limit {
		return nil, tooLarge()
	}
	size := r.ContentLength
	if size < 0 || size > limit {
		size = 512
	}
	buf := make([]byte, 0, size+1)
	body, err := readAll(http.MaxBytesReader(w, r.Body, limit), buf)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, tooLarge()
		}
		return nil, problem.New(http.StatusBadRequest, "unreadable_body", "the body could not be read: "+err.Error(), "send the whole body with a correct Content-Length")
	}
	return body, nil
}

// readAll is io.ReadAll into a caller-sized buffer: pushes announce their
// length, so one allocation usually holds the whole body.
func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}

// reject answers a bad push: the problem for the sender, one log line and a
// count for the operator. Nothing was written.
func (h *PushHandler) reject(w http.ResponseWriter, r *http.Request, source string, p *problem.Problem) {
	p.Write(w)
	// Titles and paths quote what the sender wrote: escaped and clipped, so
	// a sender cannot fill the log or forge a line in it.
	h.log.Warn("push rejected", "source", source, "status", p.Status, "code", p.Code, "title", connector.ForLog(p.Title),
		"field", connector.ForLog(p.Field), "remote", r.RemoteAddr)
	if h.metrics != nil {
		h.metrics.rejected.WithLabelValues(source, p.Code).Inc()
		h.metrics.pushes.WithLabelValues(source, p.Code).Inc()
	}
}

// fail answers a push the hub could not commit; the sender should retry.
func (h *PushHandler) fail(w http.ResponseWriter, r *http.Request, source string, err error) {
	status, code := http.StatusServiceUnavailable, "not_committed"
	if errors.Is(err, r.Context().Err()) && r.Context().Err() != nil {
		// The sender went away; the document is committed or will be, and a
		// retry finds it as a duplicate.
		h.log.Info("push sender disconnected before the commit answered", "source", source, "remote", r.RemoteAddr)
		return
	}
	p := problem.New(status, code, "the order was not stored", "retry the same request; a repeated push is never stored twice")
	w.Header().Set("Retry-After", "1")
	p.Write(w)
	h.log.Error("push not committed", "source", source, "err", err)
	if h.metrics != nil {
		h.metrics.pushes.WithLabelValues(source, code).Inc()
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "encoding the answer failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
