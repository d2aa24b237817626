// Package problem is the one shape of every error answer orderhub gives over
// HTTP: RFC 9457 problem details, with a stable code, a message that says what
// is wrong and how to fix it, and where (JSON path or byte offset) when known.
package problem

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Problem is an error a client caused and can fix.
type Problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`             // stable, for programs: bad_signature, malformed_json, …
	Title  string `json:"title"`            // what is wrong
	Detail string `json:"detail,omitempty"` // how to fix it
	// Field is the JSON path of the offending field, e.g. detail[0].num.
	Field string `json:"field,omitempty"`
	// Offset is the byte offset into the request body, for syntax errors.
	Offset int64 `json:"offset,omitempty"`
}

// New makes a problem.
func New(status int, code, title, detail string) *Problem {
	return &Problem{Status: status, Code: code, Title: title, Detail: detail}
}

// Error implements error.
func (p *Problem) Error() string {
	s := fmt.Sprintf("%d %s: %s", p.Status, p.Code, p.Title)
	if p.Field != "" {
		s += " (field " + p.Field + ")"
	}
	if p.Detail != "" {
		s += "; " + p.Detail
	}
	return s
}

// Write sends the problem as application/problem+json.
func (p *Problem) Write(w http.ResponseWriter) {
	body, _ := json.Marshal(p)
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.WriteHeader(p.Status)
	_, _ = w.Write(append(body, '\n'))
}

// As finds a Problem in err's chain.
func As(err error) (*Problem, bool) {
	var p *Problem
	ok := errors.As(err, &p)
	return p, ok
}
