package aliyunsms

import (
	"strings"
	"testing"
	"time"

	"orderhub/internal/connector"
)

// Render shows what SendSms would carry, numbers masked, and why a message
// could not be sent.
func TestRender(t *testing.T) {
	c, err := New(Options{System: "sms", AccessKeyID: testAK, AccessKeySecret: testSecret, SignName: testSign, Templates: testTemplates})
	if err != nil {
		t.Fatal(err)
	}
	body, cut, err := c.Render(shipped("13800001234", "+86 139 0000 5678"))
	want := `{"PhoneNumbers":"138****1234,139****5678","SignName":"某某商城","TemplateCode":"SMS_300000001","TemplateParam":"{\"company\":\"顺丰速运\",\"order_no\":\"D1\",\"tracking\":\"SF1234567890\"}","OutId":"shipped_to_buyer/shop/D1/shipped"}`
	if err != nil || cut || string(body) != want {
		t.Fatalf("Render = %s, %v, %v\nwant %s", body, cut, err, want)
	}
	m := shipped("13800001234")
	m.Template = "big_order"
	if _, _, err := c.Render(m); connector.ClassOf(err) != connector.Permanent || !strings.Contains(err.Error(), "big_order") {
		t.Fatalf("Render of an unmapped template: %v", err)
	}
}

// The ways people write a mainland mobile, and what is not one.
func TestMainland(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"13800001234", "13800001234", true},
		{"+8613800001234", "13800001234", true},
		{"+86 138-0000-1234", "13800001234", true},
		{"008613800001234", "13800001234", true},
		{"8613800001234", "13800001234", true},
		{"(+86) 138 0000 1234", "13800001234", true},
		{"+1 415 555 0100", "", false},
		{"12800001234", "", false},
		{"1380000123", "", false},
		{"138000012345", "", false},
		{"1380000123x", "", false},
		{"", "", false},
	} {
		got, ok := mainland(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("mainland(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestDurationText(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{40 * time.Second, " 40 秒 "},
		{21 * time.Hour, " 21 小时 "},
		{5*time.Hour + 59*time.Minute + 45*time.Second, " 5 小时 59 分钟 45 秒 "},
		{300 * time.Millisecond, " 1 秒 "},
	} {
		if got := durationText(c.d); got != c.want {
			t.Errorf("durationText(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}
