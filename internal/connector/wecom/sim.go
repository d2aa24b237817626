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
	"slices"
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
// /cgi-bin/webhook/send?key=… and /cgi-bin/webhook/upload_media for every
// robot added with AddRobot. It checks what WeCom checks (the key, the
// message type and each type's fields, template cards by the published
// rules, media ids by robot, type and age, the byte limits, 20 messages a
// minute per robot) and answers with WeCom's errcodes and errmsgs, HTTP
// 200 throughout. It is safe for
// concurrent use and keeps its lock only to count and record.
type Sim struct {
	cfg    SimConfig
	faults simfault.Injector

	mu       sync.Mutex
	robots   map[string]*simRobot
	media    map[string]simMedia
	received []Received
	accepted int
	rejected []Rejected
	seq      int
}

type simMedia struct {
	key, kind, name string
	created         time.Time
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
	return &Sim{cfg: cfg, robots: map[string]*simRobot{}, media: map[string]simMedia{}}
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
	if r.URL.Path != SendPath && r.URL.Path != UploadPath {
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
	if r.URL.Path == UploadPath {
		s.upload(w, r, key)
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
	rec, code, msg := s.check(key, body, s.cfg.Now())
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
func (s *Sim) check(key string, body []byte, now time.Time) (Received, int, string) {
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
	case "file", "voice":
		md := req.File
		if req.MsgType == "voice" {
			md = req.Voice
		}
		if md == nil || md.MediaID == "" {
			return missing(req.MsgType + ".media_id")
		}
		s.mu.Lock()
		m, ok := s.media[md.MediaID]
		s.mu.Unlock()
		if !ok || m.key != key || m.kind != req.MsgType || now.Sub(m.created) > MediaLife {
			// Unknown, another robot's, of the other type, or expired.
			return Received{}, CodeInvalidMedia, "invalid media_id"
		}
		rec.Text = "[" + req.MsgType + " " + m.name + "]"
	case "template_card":
		text, code, msg := checkCard(req.TemplateCard)
		if code != CodeOK {
			return Received{}, code, msg
		}
		rec.Text = text
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

// upload takes a file or voice for robot key, as upload_media does: a
// multipart part named media, 5 B to 20 MB for a file, up to 2 MB for a
// voice.
func (s *Sim) upload(w http.ResponseWriter, r *http.Request, key string) {
	kind := r.URL.Query().Get("type")
	max := int64(FileMax)
	switch kind {
	case "file":
	case "voice":
		max = VoiceMax
	default:
		s.refuse(w, r, key, CodeInvalidParam, "type must be file or voice. invalid Request Parameter")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, max+64<<10)
	f, hdr, err := r.FormFile("media")
	if err != nil {
		s.refuse(w, r, key, CodeInvalidParam, "missing field media (multipart). invalid Request Parameter")
		return
	}
	defer f.Close()
	n, _ := io.Copy(io.Discard, io.LimitReader(f, max+1))
	if n < FileMin || n > max {
		s.refuse(w, r, key, CodeInvalidParam, fmt.Sprintf("media size %d out of range [%d, %d]. invalid Request Parameter", n, FileMin, max))
		return
	}
	now := s.cfg.Now()
	s.mu.Lock()
	s.seq++
	id := fmt.Sprintf("3%s_%d_%06d", kind, now.Unix(), s.seq)
	s.media[id] = simMedia{key: key, kind: kind, name: hdr.Filename, created: now}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	b, _ := json.Marshal(mediaAnswer{ErrMsg: "ok", Type: kind, MediaID: id, CreatedAt: fmt.Sprint(now.Unix())})
	w.Write(b)
}

// checkCard validates a template_card by the rules WeCom publishes for
// group robots. WeCom does not document the code for a card it refuses;
// 40058, its code for a missing or invalid field, is used.
func checkCard(c *templateCard) (string, int, string) {
	bad := func(why string) (string, int, string) {
		return "", CodeInvalidParam, "template_card: " + why + ". invalid Request Parameter"
	}
	if c == nil {
		return bad("missing field template_card")
	}
	switch c.CardType {
	case "text_notice":
		if (c.MainTitle == nil || c.MainTitle.Title == "") && c.SubTitleText == "" {
			return bad("text_notice needs main_title.title or sub_title_text")
		}
	case "news_notice":
		if c.MainTitle == nil || c.MainTitle.Title == "" {
			return bad("news_notice needs main_title.title")
		}
		if c.CardImage == nil || c.CardImage.URL == "" {
			return bad("news_notice needs card_image.url")
		}
		if ar := c.CardImage.AspectRatio; ar != nil && (*ar < 1.3 || *ar > 2.25) {
			return bad("card_image.aspect_ratio must be within 1.3 to 2.25")
		}
	default:
		return bad("card_type must be text_notice or news_notice")
	}
	switch {
	case c.CardAction == nil:
		return bad("missing field card_action")
	case c.CardAction.Type == 1 && c.CardAction.URL == "":
		return bad("card_action type 1 needs url")
	case c.CardAction.Type == 2 && c.CardAction.AppID == "":
		return bad("card_action type 2 needs appid")
	case c.CardAction.Type != 1 && c.CardAction.Type != 2:
		return bad("card_action.type must be 1 or 2")
	case len(c.HorizontalContentList) > 6:
		return bad("horizontal_content_list holds more than 6")
	case len(c.JumpList) > 3:
		return bad("jump_list holds more than 3")
	case len(c.VerticalContentList) > 4:
		return bad("vertical_content_list holds more than 4")
	}
	var parts []string
	if c.MainTitle != nil {
		parts = append(parts, c.MainTitle.Title, c.MainTitle.Desc)
	}
	parts = append(parts, c.SubTitleText)
	if e := c.EmphasisContent; e != nil {
		parts = append(parts, e.Title, e.Desc)
	}
	for i, h := range c.HorizontalContentList {
		if h.KeyName == "" {
			return bad(fmt.Sprintf("horizontal_content_list[%d] needs keyname", i))
		}
		parts = append(parts, h.KeyName+": "+h.Value)
	}
	for i, v := range c.VerticalContentList {
		if v.Title == "" {
			return bad(fmt.Sprintf("vertical_content_list[%d] needs title", i))
		}
		parts = append(parts, v.Title, v.Desc)
	}
	for i, j := range c.JumpList {
		if j.Title == "" {
			return bad(fmt.Sprintf("jump_list[%d] needs title", i))
		}
		parts = append(parts, j.Title)
	}
	if c.CardAction.URL != "" {
		parts = append(parts, c.CardAction.URL)
	}
	return strings.Join(slices.DeleteFunc(parts, func(p string) bool { return p == "" }), "\n"), CodeOK, ""
}
