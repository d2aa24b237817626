package imhook

import (
	"fmt"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, c := range []struct {
		name, raw, err string
	}{
		{"https", " https://robot.example/hook?key=secret ", ""},
		{"http to a loopback address", "http://127.0.0.1:8080/hook", ""},
		{"http to localhost", "http://localhost/hook", ""},
		{"http to ::1", "http://[::1]:9/hook", ""},
		{"empty", "  ", "webhook is empty"},
		{"not a URL", "https://robot.example/%zz?key=secret", "webhook is not a URL"},
		{"http elsewhere", "http://robot.example/hook?key=secret", "webhook uses http; Robot takes only https"},
		{"another scheme", "ftp://robot.example/hook", `webhook has scheme "ftp", want https`},
		{"relative", "/hook?key=secret", `webhook has scheme "", want https`},
		{"no host", "https:///hook?key=secret", "webhook has no host"},
	} {
		t.Run(c.name, func(t *testing.T) {
			u, err := Parse(c.raw, "Robot")
			switch {
			case c.err == "" && err != nil:
				t.Fatalf("Parse(%q): %v", c.raw, err)
			case c.err == "" && u.String() != strings.TrimSpace(c.raw):
				t.Fatalf("Parse(%q) = %s", c.raw, u)
			case c.err != "" && (err == nil || !strings.HasPrefix(err.Error(), c.err)):
				t.Fatalf("Parse(%q) error %v, want %q", c.raw, err, c.err)
			case err != nil && strings.Contains(err.Error(), "secret"):
				t.Fatalf("the error shows the credential: %v", err)
			}
		})
	}
}

func ExampleParse() {
	_, err := Parse("http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k", "WeCom")
	fmt.Println(err)
	u, _ := Parse("http://127.0.0.1:8080/cgi-bin/webhook/send?key=k", "WeCom")
	fmt.Println(u.Host)
	// Output:
	// webhook uses http; WeCom takes only https (http is allowed for 127.0.0.1 simulators)
	// 127.0.0.1:8080
}
