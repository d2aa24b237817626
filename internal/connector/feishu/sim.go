package feishu

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"orderhub/internal/connector/simfault"
)

// SimConfig configures a Sim. Zero values are Feishu's own limits.
type SimConfig struct {
	// Now is the simulator's clock; time.Now when nil.
	Now func() time.Time
	// PerMinute and PerSecond are how many messages a bot accepts in any
	// 60 s and any 1 s (100 and 5).
	PerMinute, PerSecond int
	// Keep bounds the records (0: all): Received lists the newest Keep
	// accepted messages and Rejected at most twice as many refusals, so a
	// long benchmark or demo does not grow without end; Accepted still
	// counts every message.
	Keep int
	// NoRateLimit turns the per-bot limits off, for benchmarks.
	NoRateLimit bool
	// MaxBody is the largest body taken (MaxBody).
	MaxBody int
	// BusyAtHalfHours answers 11232 during the first two seconds of every
	// hour and half hour, as Feishu's load does, to exercise retries.
	BusyAtHalfHours bool
}

// Robot is one custom bot and its security settings.
type Robot struct {
	// Token is the last part of the webhook path.
	Token string
	// Secret turns 签名校验 on.
	Secret string
	// Keywords turns 自定义关键词 on (at most 10): a message must show one.
	Keywords []string
	// AllowIPs turns the IP allow-list on: single IPs, a.b.c.* or CIDR.
	AllowIPs []string
}

// Sim is a strict local Feishu custom bot webhook: POST
// /open-apis/bot/v2/hook/{token} for every bot added with AddRobot. It
// checks what Feishu checks (the token, the IP allow-list, the signature
// and its one-hour window, each message type's shape, the keyword, the
// body size, 5 a second and 100 a minute per bot) and answers with
// Feishu's codes and messages, HTTP 200 throughout. It is safe for
// concurrent use and keeps its lock only to count and record.
type Sim struct {
	cfg    SimConfig
	faults simfault.Injector

	mu       sync.Mutex
	robots   map[string]*simRobot
	received []Received
	accepted int
	rejected []Rejected
}

type simRobot struct {
	Robot
	minute, second []time.Time // accepted messages within the windows, oldest first
}

// Received is one message a bot accepted.
type Received struct {
	Token   string
	MsgType string
	At      time.Time
	// Body is the request body as it came.
	Body []byte
	// Text is what the group sees: titles, texts, link labels followed by
	// their addresses, mentions, one line each paragraph.
	Text string
	// Mentioned are the user ids mentioned; "all" for everyone.
	Mentioned []string
	// Signed reports that the message carried a valid signature.
	Signed bool
}

// Rejected is one refused call and why.
type Rejected struct {
	Token  string
	Code   int
	Msg    string
	Reason string // what exactly was wrong, beyond Feishu's terse msg
}

// NewSim returns a simulator with no bots.
func NewSim(cfg SimConfig) *Sim {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PerMinute <= 0 {
		cfg.PerMinute = 100
	}
	if cfg.PerSecond <= 0 {
		cfg.PerSecond = 5
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = MaxBody
	}
	return &Sim{cfg: cfg, robots: map[string]*simRobot{}}
}

// AddRobot adds bots, or replaces the settings of bots with these tokens.
func (s *Sim) AddRobot(robots ...Robot) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range robots {
		s.robots[r.Token] = &simRobot{Robot: r}
	}
}

// RemoveRobot removes a bot from its group: its token answers 19001.
func (s *Sim) RemoveRobot(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.robots, token)
}

// HookURL is the webhook of bot token on a simulator served at base
// (http://127.0.0.1:port).
func HookURL(base, token string) string {
	return strings.TrimSuffix(base, "/") + HookPath + token
}

// Faults is the simulator's fault injector; Throttle answers 11232.
func (s *Sim) Faults() *simfault.Injector { return &s.faults }

// Received lists the accepted messages, oldest first.
func (s *Sim) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	if k := s.cfg.Keep; k > 0 && len(s.received) > k {
		return append([]Received(nil), s.received[len(s.received)-k:]...)
	}
	return append([]Received(nil), s.received...)
}

// Accepted counts every message accepted since the simulator started.
func (s *Sim) Accepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accepted
}

// Rejected lists the refused calls, oldest first.
func (s *Sim) Rejected() []Rejected {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Rejected(nil), s.rejected...)
}

// Feishu's messages for its codes.
var codeMsg = map[int]string{
	CodeBadRequest:   "Bad Request",
	CodeFrequency:    "frequency limited psm[lark.oapi.app_platform_runtime]appID[1500]",
	CodeTokenInvalid: "param invalid: incoming webhook access token invalid",
	CodeSignFailed:   "sign match fail or timestamp is not within one hour from current time",
	CodeIPNotAllowed: "Ip Not Allowed",
	CodeKeywordsMiss: "Key Words Not Found",
}

const success = `{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}`

func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.URL.Path, HookPath)
	if !ok || strings.Contains(token, "/") {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	rb, known := s.robots[token]
	var robot Robot
	if known {
		robot = rb.Robot
	}
	s.mu.Unlock()
	if !known {
		s.refuse(w, token, CodeTokenInvalid, "unknown token")
		return
	}
	set := s.faults.Draw(r)
	if set.Before(w, r) {
		return
	}
	if set.Has(simfault.Throttle) {
		s.refuse(w, token, CodeFrequency, "throttle fault")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(s.cfg.MaxBody)+1))
	if err != nil {
		return // the client went away
	}
	if len(body) > s.cfg.MaxBody {
		s.refuse(w, token, CodeBadRequest, fmt.Sprintf("body over %d bytes", s.cfg.MaxBody))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		s.refuse(w, token, CodeBadRequest, "Content-Type is not application/json")
		return
	}
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		s.refuse(w, token, CodeBadRequest, "body is not a JSON object of the webhook's fields: "+err.Error())
		return
	}
	now := s.cfg.Now()
	if len(robot.AllowIPs) > 0 {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		if !ipAllowed(ip, robot.AllowIPs) {
			s.refuse(w, token, CodeIPNotAllowed, "ip "+ip+" not in the allow-list")
			return
		}
	}
	if robot.Secret != "" {
		if reason := checkSign(robot.Secret, req, now); reason != "" {
			s.refuse(w, token, CodeSignFailed, reason)
			return
		}
	}
	rec, keyText, reason := parseMessage(req)
	if reason != "" {
		s.refuse(w, token, CodeBadRequest, reason)
		return
	}
	if len(robot.Keywords) > 0 && !containsAny(keyText, robot.Keywords) {
		s.refuse(w, token, CodeKeywordsMiss, "no keyword in the message's text and titles")
		return
	}
	if s.cfg.BusyAtHalfHours && now.Minute()%30 == 0 && now.Second() < 2 {
		s.refuse(w, token, CodeFrequency, "load at the hour or half hour")
		return
	}
	s.mu.Lock()
	rb, known = s.robots[token]
	if !known {
		s.mu.Unlock()
		s.refuse(w, token, CodeTokenInvalid, "bot removed")
		return
	}
	if !s.cfg.NoRateLimit {
		rb.minute = trim(rb.minute, now.Add(-time.Minute))
		rb.second = trim(rb.second, now.Add(-time.Second))
		if len(rb.minute) >= s.cfg.PerMinute || len(rb.second) >= s.cfg.PerSecond {
			s.mu.Unlock()
			s.refuse(w, token, CodeFrequency, "over the bot's rate limit")
			return
		}
		rb.minute = append(rb.minute, now)
		rb.second = append(rb.second, now)
	}
	rec.Token, rec.At, rec.Body, rec.Signed = token, now, body, robot.Secret != ""
	s.received = append(s.received, rec)
	s.accepted++
	s.received = keepLast(s.received, s.cfg.Keep)
	s.mu.Unlock()
	if set.Has(simfault.LoseAnswer) {
		simfault.DropAnswer(w)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	io.WriteString(w, success)
}

// trim drops the times at or before cutoff.
func trim(ts []time.Time, cutoff time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(cutoff) {
		i++
	}
	return ts[i:]
}

func (s *Sim) refuse(w http.ResponseWriter, token string, code int, reason string) {
	msg := codeMsg[code]
	s.mu.Lock()
	s.rejected = keepLast(s.rejected, s.cfg.Keep)
	s.rejected = append(s.rejected, Rejected{Token: token, Code: code, Msg: msg, Reason: reason})
	s.mu.Unlock()
	b, _ := json.Marshal(struct {
		Code int             `json:"code"`
		Data json.RawMessage `json:"data"`
		Msg  string          `json:"msg"`
	}{code, json.RawMessage("{}"), msg})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(b)
}

// checkSign verifies the body's timestamp and sign; "" when they pass.
func checkSign(secret string, req request, now time.Time) string {
	if req.Timestamp == "" || req.Sign == "" {
		return "timestamp or sign missing"
	}
	ts, err := strconv.ParseInt(req.Timestamp, 10, 64)
	if err != nil {
		return "timestamp is not Unix seconds"
	}
	if d := now.Sub(time.Unix(ts, 0)); d > time.Hour || d < -time.Hour {
		return fmt.Sprintf("timestamp %s is %v from now", req.Timestamp, d.Round(time.Second))
	}
	if subtle.ConstantTimeCompare([]byte(req.Sign), []byte(Sign(secret, ts))) != 1 {
		return "sign does not match"
	}
	return ""
}

func ipAllowed(ip string, allow []string) bool {
	addr := net.ParseIP(ip)
	for _, a := range allow {
		switch {
		case strings.HasSuffix(a, ".*"):
			if strings.HasPrefix(ip, strings.TrimSuffix(a, "*")) {
				return true
			}
		case strings.Contains(a, "/"):
			if _, n, err := net.ParseCIDR(a); err == nil && addr != nil && n.Contains(addr) {
				return true
			}
		case a == ip:
			return true
		}
	}
	return false
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if w != "" && strings.Contains(s, w) {
			return true
		}
	}
	return false
}

var (
	atTextRE = regexp.MustCompile(`<at user_id="([^"]+)">`)
	atCardRE = regexp.MustCompile(`<at id=([^\s>]+)>`)
)

// parseMessage checks a message's shape and returns what the group sees,
// and the text Feishu searches for keywords (text and title values, not
// addresses). reason says what is wrong when it is not "".
func parseMessage(req request) (rec Received, keyText, reason string) {
	rec.MsgType = req.MsgType
	var vis, kw []string
	switch req.MsgType {
	case TypeText:
		var c textContent
		if err := json.Unmarshal(req.Content, &c); err != nil || c.Text == "" {
			return rec, "", "text needs content.text"
		}
		vis, kw = append(vis, c.Text), append(kw, c.Text)
		for _, m := range atTextRE.FindAllStringSubmatch(c.Text, -1) {
			rec.Mentioned = append(rec.Mentioned, m[1])
		}
	case TypePost:
		var c postContent
		if err := json.Unmarshal(req.Content, &c); err != nil || len(c.Post) == 0 {
			return rec, "", "post needs content.post with at least one locale"
		}
		for _, lang := range slices.Sorted(maps.Keys(c.Post)) {
			loc := c.Post[lang]
			if loc.Content == nil {
				return rec, "", "post." + lang + " has no content"
			}
			if loc.Title != "" {
				vis, kw = append(vis, loc.Title), append(kw, loc.Title)
			}
			for i, para := range loc.Content {
				var line []string
				for j, n := range para {
					where := fmt.Sprintf("post.%s.content[%d][%d]", lang, i, j)
					switch n.Tag {
					case "text":
						line, kw = append(line, n.Text), append(kw, n.Text)
					case "a":
						if !validHref(n.Href) {
							return rec, "", where + ": a needs a valid href"
						}
						line, kw = append(line, n.Text+" "+n.Href), append(kw, n.Text)
					case "at":
						if n.UserID == "" {
							return rec, "", where + ": at needs user_id"
						}
						rec.Mentioned = append(rec.Mentioned, n.UserID)
						line = append(line, "@"+orName(n.UserName, n.UserID))
					case "img":
						if n.ImageKey == "" {
							return rec, "", where + ": img needs image_key"
						}
						line = append(line, "[图片]")
					default:
						return rec, "", where + ": unknown tag " + strconv.Quote(n.Tag)
					}
				}
				vis = append(vis, strings.Join(line, ""))
			}
		}
	case TypeInteractive:
		c := req.Card
		if len(c) == 0 {
			return rec, "", "interactive needs a top-level card (not inside content)"
		}
		els, _ := c["elements"].([]any)
		if body, ok := c["body"].(map[string]any); ok && c["schema"] == "2.0" {
			els, _ = body["elements"].([]any)
		}
		if len(els) == 0 {
			return rec, "", "card has no elements"
		}
		for i, e := range els {
			if m, ok := e.(map[string]any); !ok || m["tag"] == nil {
				return rec, "", fmt.Sprintf("card element %d has no tag", i)
			}
		}
		walkCard(c, &vis, &kw)
		for _, t := range vis {
			for _, m := range atCardRE.FindAllStringSubmatch(t, -1) {
				rec.Mentioned = append(rec.Mentioned, m[1])
			}
		}
	case "image":
		var c struct {
			ImageKey string `json:"image_key"`
		}
		if json.Unmarshal(req.Content, &c) != nil || c.ImageKey == "" {
			return rec, "", "image needs content.image_key"
		}
		vis = append(vis, "[图片]")
	case "share_chat":
		var c struct {
			ID string `json:"share_chat_id"`
		}
		if json.Unmarshal(req.Content, &c) != nil || c.ID == "" {
			return rec, "", "share_chat needs content.share_chat_id"
		}
		vis = append(vis, "[群名片]")
	default:
		return rec, "", "msg_type " + strconv.Quote(req.MsgType) + " is not text, post, image, share_chat or interactive"
	}
	rec.Text = strings.Join(vis, "\n")
	return rec, strings.Join(kw, "\n"), ""
}

// walkCard collects a card's texts (every "content" string: plain_text,
// lark_md and markdown alike) and, for what the group sees, the addresses
// its buttons and links open.
func walkCard(v any, vis, kw *[]string) {
	switch v := v.(type) {
	case map[string]any:
		if s, ok := v["content"].(string); ok {
			*vis, *kw = append(*vis, s), append(*kw, s)
		}
		// Keys in a fixed order, so that Text reads the same on every run:
		// the header before the elements, the rest by name. The buffer keeps
		// the common small objects off the heap.
		var buf [16]string
		keys := buf[:0]
		for k, e := range v {
			switch e.(type) {
			case map[string]any, []any:
				keys = append(keys, k)
			}
		}
		for i := 1; i < len(keys); i++ {
			for j := i; j > 0 && keyBefore(keys[j], keys[j-1]); j-- {
				keys[j], keys[j-1] = keys[j-1], keys[j]
			}
		}
		for _, k := range keys {
			walkCard(v[k], vis, kw)
		}
		// A button's or link's address after its label.
		for _, k := range []string{"url", "href"} {
			if s, ok := v[k].(string); ok {
				*vis = append(*vis, s)
			}
		}
	case []any:
		for _, e := range v {
			walkCard(e, vis, kw)
		}
	}
}

// keyBefore orders a card object's keys: header, then elements or body,
// then the rest by name.
func keyBefore(a, b string) bool {
	rank := func(k string) int {
		switch k {
		case "header":
			return 0
		case "elements", "body":
			return 1
		}
		return 2
	}
	if ra, rb := rank(a), rank(b); ra != rb {
		return ra < rb
	}
	return a < b
}

func orName(name, id string) string {
	if name != "" {
		return name
	}
	return id
}

// keepLast trims a record list to its last k entries once it holds 2k, so
// trimming costs little per message; k 0 keeps all.
func keepLast[T any](list []T, k int) []T {
	if k <= 0 || len(list) < 2*k {
		return list
	}
	n := copy(list, list[len(list)-k:])
	clear(list[n:]) // let the dropped bodies go
	return list[:n]
}
