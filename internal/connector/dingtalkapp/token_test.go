package dingtalkapp

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"orderhub/internal/config"
	"orderhub/internal/connector"
)

func send(t *testing.T, c connector.Sender, m connector.Message) connector.SendResult {
	t.Helper()
	res, err := c.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("send %s: %v", m.Key, err)
	}
	return res
}

func msgTo(key string, users ...string) connector.Message {
	m := sample
	m.Key = key
	m.Markdown += "\n\n" + key // distinct content: DingTalk drops same-day duplicates
	m.To = people(users...)
	return m
}

// Two senders of one app sharing a token cache (two nodes, or two rules)
// fetch one token between them, fetch it again before it expires, and
// after DingTalk revokes it, fetch a new one once for both.
func TestTokenSharedAndRefreshedOnce(t *testing.T) {
	r := newRig(t, SimConfig{})
	tokens := &connector.MemoryTokens{Now: r.clock.Now}
	a, b := r.client(t, goodSettings(), tokens), r.client(t, goodSettings(), tokens)
	steps := []struct {
		name   string
		before func()
		sender *Client
		want   int // gettoken calls so far
	}{
		{"first send fetches", nil, a, 1},
		{"the other sender shares it", nil, b, 1},
		{"an hour later it is still good", func() { r.clock.Add(time.Hour) }, a, 1},
		{"within the margin of expiry it is fetched again", func() { r.clock.Add(time.Hour - 4*time.Minute) }, b, 2},
		{"and shared again", nil, a, 2},
		{"revoked: the first sender to meet it fetches a new one", func() { r.sim.RevokeTokens(testAppKey) }, b, 3},
		{"the other takes the new one", nil, a, 3},
	}
	for i, s := range steps {
		if s.before != nil {
			s.before()
		}
		send(t, s.sender, msgTo(s.name, "u1"))
		if n := r.sim.TokenCalls(); n != s.want {
			t.Fatalf("step %d (%s): %d gettoken calls, want %d", i, s.name, n, s.want)
		}
	}
	if n := len(r.sim.Inbox("u1")); n != len(steps) {
		t.Fatalf("u1 received %d messages, want %d", n, len(steps))
	}
}

// A token the cache still holds but DingTalk has let expire (the clocks
// disagree) is answered 42001, or 88/40014 where the simulator is set so;
// either way the sender fetches a new one and the message goes out.
func TestExpiredTokenIsRefetched(t *testing.T) {
	for _, code := range []int{CodeTokenExpired, CodeAuth} {
		r := newRig(t, SimConfig{ExpiredCode: code})
		start := r.clock.Now()
		stale := &connector.MemoryTokens{Now: func() time.Time { return start }}
		c := r.client(t, goodSettings(), stale)
		send(t, c, msgTo("one", "u1"))
		r.clock.Add(3 * time.Hour)
		send(t, c, msgTo("two", "u1"))
		if n := r.sim.TokenCalls(); n != 2 {
			t.Errorf("code %d: %d gettoken calls, want 2", code, n)
		}
		rej := r.sim.Rejected()
		if len(rej) != 1 || rej[0].ErrCode != code {
			t.Errorf("code %d: rejections %+v", code, rej)
		}
	}
}

// Wrong credentials are permanent with a hint, and nothing is sent.
func TestBadSecret(t *testing.T) {
	r := newRig(t, SimConfig{})
	s := goodSettings()
	s.AppSecret = "not-the-secret"
	_, err := r.client(t, s, nil).Send(context.Background(), msgTo("k", "u1"))
	ce, _ := connector.AsCallError(err)
	if ce == nil || ce.Class != connector.Permanent || ce.Code != "40096" || ce.Op != opToken || !strings.Contains(ce.Hint, "AppSecret") {
		t.Fatalf("%+v", ce)
	}
	if strings.Contains(err.Error(), "not-the-secret") {
		t.Fatalf("the error shows the secret: %v", err)
	}
	if n := len(r.sim.Calls()); n != 0 {
		t.Fatalf("%d calls went out", n)
	}
}

// A transport error's URL holds the app secret (gettoken) or the token;
// neither reaches the error text.
func TestTransportErrorsHideCredentials(t *testing.T) {
	r := newRig(t, SimConfig{})
	base := r.srv.URL
	r.srv.Close() // connection refused
	c, err := New(Options{System: "ding_app", BaseURL: base, AppKey: testAppKey, AppSecret: testAppSecret, AgentID: testAgentID})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(context.Background(), msgTo("k", "u1"))
	if connector.ClassOf(err) != connector.Retry {
		t.Fatalf("connection refused: %v, want retry", err)
	}
	var ue *url.Error
	if strings.Contains(err.Error(), testAppSecret) || strings.Contains(err.Error(), url.QueryEscape(testAppSecret)) || !errors.As(err, &ue) {
		t.Fatalf("error %q shows the secret or lost its cause", err)
	}
}

func TestSettingsProblems(t *testing.T) {
	cases := []struct {
		name string
		s    Settings
		want string
	}{
		{"app_key with a space", Settings{AppKey: "ding abc", AppSecret: "x", AgentID: 1}, "app_key"},
		{"secret with a newline", Settings{AppKey: "ding", AppSecret: config.Secret("x\n"), AgentID: 1}, "app_secret"},
		{"negative agent", Settings{AppKey: "ding", AppSecret: "x", AgentID: -3}, "agent_id"},
		{"token code not a number", Settings{AppKey: "ding", AppSecret: "x", AgentID: 1, TokenCodes: []string{"4001x"}}, "token_invalid_codes"},
	}
	for _, c := range cases {
		ps := c.s.Validate()
		if len(ps) != 1 || ps[0].Key != c.want {
			t.Errorf("%s: %+v, want one problem with %s", c.name, ps, c.want)
		}
	}
	if ps := (&Settings{AppKey: "dingabc", AppSecret: "x", AgentID: 1, TokenCodes: []string{"40014", " 42001"}}).Validate(); len(ps) != 0 {
		t.Errorf("good settings: %+v", ps)
	}
}

// Senders meeting a revoked token at once replace it once between them.
func TestConcurrentRefreshFetchesOnce(t *testing.T) {
	r := newRig(t, SimConfig{QPS: -1})
	tokens := &connector.MemoryTokens{Now: r.clock.Now}
	var senders []*Client
	for range 4 {
		senders = append(senders, r.client(t, goodSettings(), tokens))
	}
	send(t, senders[0], msgTo("warm", "u1"))
	r.sim.RevokeTokens(testAppKey)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := senders[i%4].Send(context.Background(), msgTo("k"+strconv.Itoa(i), "u2"))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := r.sim.TokenCalls(); n != 2 {
		t.Fatalf("%d gettoken calls, want 2: the first and one replacement", n)
	}
	if n := len(r.sim.Inbox("u2")); n != 16 {
		t.Fatalf("u2 received %d messages, want 16", n)
	}
}
