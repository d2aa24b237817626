package wecom

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"orderhub/internal/connector/simfault"
)

// SimConfig configures a Sim. Zero values are WeCom's own limits.
type SimConfig struct {
	// Now is the simulator's clock; time.Now when nil.
	Now func() time.Time
	// PerMinute is how many messages a robot accepts in any 60 s (20).
	PerMinute int
	// Keep bounds the records (0: all): Received lists the newest Keep
	// accepted messages and Rejected at most twice as many refusals, so a
	// long benchmark or demo does not grow without end; Accepted still
	// counts every message.
	Keep int
	// NoRateLimit turns the per-robot limit off, for benchmarks.
	NoRateLimit bool
	// TextMax is text.content's byte limit: 2048 as documented; the
	// server's own error text says 5120.
	TextMax int
}

// Sim is a strict local WeCom group robot webhook: POST
// /cgi-bin/webhook/send?key=… for every robot added with AddRobot. It
// checks what WeCom checks (the key, the message type and each type's
// fields, the byte limits, 20 messages a minute per robot) and answers
// with WeCom's errcodes and errmsgs, HTTP 200 throughout. It is safe for
// concurrent use and keeps its lock only to count and record.
type Sim struct {
	cfg    SimConfig
	faults simfault.Injector

	mu       sync.Mutex
	robots   map[string]*simRobot
	received []Received
	accepted int
	rejected []Rejected
	seq      int
}

type simRobot struct {
	sent []time.Time // accepted messages within the last minute, oldest first
}

// Received is one message a robot accepted.
type Received struct {
	Key     string
	MsgType string
	At      time.Time
	// Body is the request body as it came.
	Body []byte
	// Text is what the group sees: the content of text and markdown, each
	// article's title, description and url for news.
	Text string
	// Mentioned are the user ids mentioned (mentioned_list, <@userid> in
	// markdown); "@all" for everyone.
	Mentioned []string
	// MentionedMobiles are the mobiles mentioned (text only).
	MentionedMobiles []string
}

// Rejected is one refused call and why.
type Rejected struct {
	Key     string
	ErrCode int
	ErrMsg  string
}

// NewSim returns a simulator with no robots.
func NewSim(cfg SimConfig) *Sim {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.PerMinute <= 0 {
		cfg.PerMinute = 20
	}
	if cfg.TextMax <= 0 {
		cfg.TextMax = TextMax
	}
	return &Sim{cfg: cfg, robots: map[string]*simRobot{}}
}

// AddRobot adds robots with these webhook keys.
func (s *Sim) AddRobot(keys ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		if _, ok := s.robots[k]; !ok {
			s.robots[k] = &simRobot{}
		}
	}
}

// RemoveRobot removes a robot from its group: its key answers 93000 from
// now on.
func (s *Sim) RemoveRobot(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.robots, key)
}

// WebhookURL is the webhook of robot key on a simulator served at base
// (http://127.0.0.1:port).
func WebhookURL(base, key string) string {
	return strings.TrimSuffix(base, "/") + SendPath + "?key=" + url.QueryEscape(key)
}

// Faults is the simulator's fault injector; Throttle answers 45009.
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

// maxRequest bounds what the simulator reads: an image of 2 MB in Base64
// and its envelope.
const maxRequest = 3 << 20

func (s *Sim) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != SendPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
		return
	}
	key := r.URL.Query().Get("key")
	s.mu.Lock()
	_, known := s.robots[key]
	s.mu.Unlock()
	if !known {
		s.refuse(w, r, key, CodeInvalidURL, "invalid webhook url")
		return
	}
	set := s.faults.Draw(r)
	if set.Before(w, r) {
		return
	}
	if set.Has(simfault.Throttle) {
		s.refuse(w, r, key, CodeFreqOutOfLimit, "api freq out of limit")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequest+1))
	if err != nil {
		return // the client went away
	}
	if len(body) > maxRequest {
		s.refuse(w, r, key, CodeInvalidParam, "request body too large. invalid Request Parameter")
		return
	}
	rec, code, msg := s.check(body)
	if code != CodeOK {
		s.refuse(w, r, key, code, msg)
		return
	}
	now := s.cfg.Now()
	s.mu.Lock()
	rb, known := s.robots[key]
	if !known {
		s.mu.Unlock()
		s.refuse(w, r, key, CodeInvalidURL, "invalid webhook url")
		return
	}
	if !s.cfg.NoRateLimit {
		cutoff := now.Add(-time.Minute)
		i := 0
		for i < len(rb.sent) && !rb.sent[i].After(cutoff) {
			i++
		}
		rb.sent = rb.sent[i:]
		if len(rb.sent) >= s.cfg.PerMinute {
			s.mu.Unlock()
			s.refuse(w, r, key, CodeFreqOutOfLimit, "api freq out of limit")
			return
		}
		rb.sent = append(rb.sent, now)
	}
	rec.Key, rec.At, rec.Body = key, now, body
	s.received = append(s.received, rec)
	s.accepted++
	s.received = keepLast(s.received, s.cfg.Keep)
	s.mu.Unlock()
	if set.Has(simfault.LoseAnswer) {
		simfault.DropAnswer(w)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
}

// refuse answers an errcode the way WeCom does: HTTP 200, and an errmsg
// that ends in a hint, the caller's address and a link to the code's page.
func (s *Sim) refuse(w http.ResponseWriter, r *http.Request, key string, code int, msg string) {
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	s.mu.Lock()
	s.seq++
	hint := fmt.Sprintf("%d_%08x", s.cfg.Now().Unix(), s.seq)
	full := fmt.Sprintf("%s, hint: [%s], from ip: %s, more info at https://open.work.weixin.qq.com/devtool/query?e=%d", msg, hint, ip, code)
	s.rejected = keepLast(s.rejected, s.cfg.Keep)
	s.rejected = append(s.rejected, Rejected{Key: key, ErrCode: code, ErrMsg: full})
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	b, _ := json.Marshal(answer{ErrCode: &code, ErrMsg: full})
	w.Write(b)
}

var atUserRE = regexp.MustCompile(`<@([^>\s]+)>`)

// check validates one body as WeCom does and returns what the group sees.
func (s *Sim) check(body []byte) (Received, int, string) {
	var req request
	if err := json.Unmarshal(body, &req); err != nil {
		return Received{}, CodeInvalidParam, "Warning: wrong json format. invalid Request Parameter"
	}
	rec := Received{MsgType: req.MsgType}
	missing := func(field string) (Received, int, string) {
		return Received{}, CodeInvalidParam, "missing field " + field + ". invalid Request Parameter"
	}
	tooLong := func(field string, max int) (Received, int, string) {
		return Received{}, CodeInvalidParam, fmt.Sprintf("%s exceed max length %d. invalid Request Parameter", field, max)
	}
	switch req.MsgType {
	case TypeText:
		if req.Text == nil || req.Text.Content == "" {
			return missing("text.content")
		}
		if len(req.Text.Content) > s.cfg.TextMax {
			return tooLong("text.content", s.cfg.TextMax)
		}
		rec.Text = req.Text.Content
		rec.Mentioned = req.Text.MentionedList
		rec.MentionedMobiles = req.Text.MentionedMobileList
	case TypeMarkdown, TypeMarkdownV2:
		md := req.Markdown
		if req.MsgType == TypeMarkdownV2 {
			md = req.MarkdownV2
		}
		if md == nil || md.Content == "" {
			return missing(req.MsgType + ".content")
		}
		if len(md.Content) > MarkdownMax {
			return tooLong(req.MsgType+".content", MarkdownMax)
		}
		rec.Text = md.Content
		if req.MsgType == TypeMarkdown { // markdown_v2 has no <@userid>
			for _, m := range atUserRE.FindAllStringSubmatch(md.Content, -1) {
				rec.Mentioned = append(rec.Mentioned, m[1])
			}
		}
	case TypeNews:
		if req.News == nil || len(req.News.Articles) == 0 {
			return missing("news.articles")
		}
		if len(req.News.Articles) > NewsArticleMax {
			return Received{}, CodeInvalidParam, fmt.Sprintf("news.articles exceed max count %d. invalid Request Parameter", NewsArticleMax)
		}
		var parts []string
		for i, a := range req.News.Articles {
			if a.Title == "" {
				return missing(fmt.Sprintf("news.articles[%d].title", i))
			}
			if a.URL == "" {
				return missing(fmt.Sprintf("news.articles[%d].url", i))
			}
			// WeCom cuts long titles and descriptions itself, silently.
			parts = append(parts, clipBytes(a.Title, NewsTitleMax), clipBytes(a.Description, NewsDescMax), a.URL)
		}
		rec.Text = strings.Join(parts, "\n")
	case "image":
		if req.Image == nil || req.Image.Base64 == "" || req.Image.MD5 == "" {
			return missing("image.base64 or image.md5")
		}
		raw, err := base64.StdEncoding.DecodeString(req.Image.Base64)
		if err != nil {
			return Received{}, CodeInvalidParam, "image.base64 is not base64. invalid Request Parameter"
		}
		if len(raw) > ImageMax {
			return tooLong("image", ImageMax)
		}
		if sum := md5.Sum(raw); !strings.EqualFold(hex.EncodeToString(sum[:]), req.Image.MD5) {
			return Received{}, CodeInvalidParam, "image.md5 does not match the image. invalid Request Parameter"
		}
		rec.Text = "[图片]"
	case "file", "voice", "template_card":
		// Real types, but they need media uploaded through upload_media or a
		// card layout this simulator does not model; refuse them plainly
		// rather than accept what it cannot check.
		return Received{}, CodeInvalidParam, req.MsgType + " is not simulated. invalid Request Parameter"
	default:
		return Received{}, CodeInvalidType, "invalid message type"
	}
	return rec, CodeOK, ""
}

// clipBytes cuts s to max bytes on a character boundary, as WeCom shows a
// long news title or description.
func clipBytes(s string, max int) string {
	if len(s) <= max {
		return s
	}
	return truncate(s, max)
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
