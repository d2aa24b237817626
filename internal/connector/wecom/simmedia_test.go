package wecom

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

func upload(t *testing.T, base, key, kind string, data []byte) mediaAnswer {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	part, _ := mw.CreateFormFile("media", "orders.csv")
	part.Write(data)
	mw.Close()
	resp, err := http.Post(base+UploadPath+"?key="+key+"&type="+kind, mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a mediaAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatalf("upload answer %q: %v", b, err)
	}
	return a
}

func TestSimMedia(t *testing.T) {
	clock := newClock(time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC))
	sim := NewSim(SimConfig{Now: clock.Now, NoRateLimit: true})
	sim.AddRobot("robot-a", "robot-b")
	base := serve(t, sim)
	file := upload(t, base, "robot-a", "file", []byte("no,amount\nD1,1.00\n"))
	if file.ErrCode != 0 || file.MediaID == "" || file.Type != "file" {
		t.Fatalf("upload: %+v", file)
	}
	if a := upload(t, base, "robot-a", "file", []byte("abc")); a.ErrCode != CodeInvalidParam {
		t.Errorf("a 3-byte file: %+v; want 40058", a)
	}
	if a := upload(t, base, "robot-a", "image", []byte("abcdef")); a.ErrCode != CodeInvalidParam {
		t.Errorf("type image: %+v; want 40058", a)
	}
	send := func(key, body string) int {
		_, a := post(t, WebhookURL(base, key), body)
		return *a.ErrCode
	}
	fileMsg := `{"msgtype":"file","file":{"media_id":"` + file.MediaID + `"}}`
	for _, c := range []struct {
		name, key, body string
		want            int
	}{
		{"own file", "robot-a", fileMsg, CodeOK},
		{"another robot's file", "robot-b", fileMsg, CodeInvalidMedia},
		{"file sent as voice", "robot-a", `{"msgtype":"voice","voice":{"media_id":"` + file.MediaID + `"}}`, CodeInvalidMedia},
		{"unknown media", "robot-a", `{"msgtype":"file","file":{"media_id":"3file_x"}}`, CodeInvalidMedia},
		{"no media_id", "robot-a", `{"msgtype":"file","file":{}}`, CodeInvalidParam},
	} {
		if got := send(c.key, c.body); got != c.want {
			t.Errorf("%s: errcode %d, want %d", c.name, got, c.want)
		}
	}
	clock.Add(MediaLife + time.Second)
	if got := send("robot-a", fileMsg); got != CodeInvalidMedia {
		t.Errorf("a media_id older than 3 days: errcode %d, want %d", got, CodeInvalidMedia)
	}
}

func TestSimTemplateCard(t *testing.T) {
	sim := NewSim(SimConfig{NoRateLimit: true})
	sim.AddRobot(simKey)
	url := WebhookURL(serve(t, sim), simKey)
	card := func(fields string) string { return `{"msgtype":"template_card","template_card":{` + fields + `}}` }
	action := `"card_action":{"type":1,"url":"https://x.example/o"}`
	for _, c := range []struct {
		name, body string
		want       int
		why        string
	}{
		{"text_notice", card(`"card_type":"text_notice","main_title":{"title":"D1 已付款"},` + action), CodeOK, ""},
		{"text_notice by sub title", card(`"card_type":"text_notice","sub_title_text":"D1",` + action), CodeOK, ""},
		{"text_notice without titles", card(`"card_type":"text_notice",` + action), CodeInvalidParam, "main_title.title or sub_title_text"},
		{"unknown card type", card(`"card_type":"vote_interaction","main_title":{"title":"x"},` + action), CodeInvalidParam, "card_type"},
		{"no card_action", card(`"card_type":"text_notice","main_title":{"title":"x"}`), CodeInvalidParam, "card_action"},
		{"url action without url", card(`"card_type":"text_notice","main_title":{"title":"x"},"card_action":{"type":1}`), CodeInvalidParam, "needs url"},
		{"app action without appid", card(`"card_type":"text_notice","main_title":{"title":"x"},"card_action":{"type":2}`), CodeInvalidParam, "needs appid"},
		{"news_notice without image", card(`"card_type":"news_notice","main_title":{"title":"x"},` + action), CodeInvalidParam, "card_image.url"},
		{"news_notice bad ratio", card(`"card_type":"news_notice","main_title":{"title":"x"},"card_image":{"url":"https://x.example/i.png","aspect_ratio":3},` + action), CodeInvalidParam, "aspect_ratio"},
		{"news_notice", card(`"card_type":"news_notice","main_title":{"title":"x"},"card_image":{"url":"https://x.example/i.png","aspect_ratio":1.5},` + action), CodeOK, ""},
		{"seven horizontal", card(`"card_type":"text_notice","main_title":{"title":"x"},"horizontal_content_list":[` + strings.TrimSuffix(strings.Repeat(`{"keyname":"k"},`, 7), ",") + `],` + action), CodeInvalidParam, "more than 6"},
		{"jump without title", card(`"card_type":"text_notice","main_title":{"title":"x"},"jump_list":[{"type":1}],` + action), CodeInvalidParam, "jump_list[0]"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, a := post(t, url, c.body)
			if *a.ErrCode != c.want || !strings.Contains(a.ErrMsg, c.why) {
				t.Fatalf("errcode %d %q; want %d with %q", *a.ErrCode, a.ErrMsg, c.want, c.why)
			}
		})
	}
	if got := sim.Received(); len(got) != 3 || got[0].Text != "D1 已付款\nhttps://x.example/o" {
		t.Fatalf("received %d, first text %q", len(got), got[0].Text)
	}
}
