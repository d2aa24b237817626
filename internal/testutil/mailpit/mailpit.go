// Package mailpit runs a real SMTP server for tests: mailpit
// (github.com/axllent/mailpit), started on free loopback ports, with the
// messages it received read back through its HTTP API.
//
//	srv := mailpit.Start(t, mailpit.Options{})
//	… send to srv.Host:srv.Port …
//	got := srv.Messages(t)
//
// The binary is the one scripts/deps builds (ORDERHUB_MAILPIT names it, as
// scripts/test exports), else the same cache path scripts/deps uses, else
// it is built here once with `go install` from the Go module proxy. When
// none of that works the test is skipped with the reason, unless
// ORDERHUB_REQUIRE_MAILPIT=1 (scripts/test sets it), when it fails.
package mailpit

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Module and Version are what scripts/deps installs; keep them equal to
// its deps_mailpit_version.
const (
	Module  = "github.com/axllent/mailpit"
	Version = "v1.27.11"
)

const (
	envBinary  = "ORDERHUB_MAILPIT"
	envRequire = "ORDERHUB_REQUIRE_MAILPIT"
	// startTimeout bounds waiting for a started mailpit to listen; it only
	// turns a hung start into a failure with mailpit's own log.
	startTimeout = 30 * time.Second
)

// Options say how the server behaves.
type Options struct {
	// Users are the accounts SMTP AUTH takes (name → password). With any,
	// every message must be sent logged in, and the server needs TLS (or
	// InsecureAuth).
	Users map[string]string
	// TLS is "" (plain SMTP), "starttls" (STARTTLS offered, and required
	// when RequireTLS is set) or "implicit" (the port speaks TLS from the
	// first byte). The certificate is made for 127.0.0.1 and localhost;
	// Server.RootCAs trusts it.
	TLS        string
	RequireTLS bool
	// InsecureAuth offers PLAIN and LOGIN without TLS.
	InsecureAuth bool
	// AllowedRecipients is a regular expression; RCPT TO any other address
	// is refused with 550 5.1.0 mailbox unavailable.
	AllowedRecipients string
	// Chaos enables the chaos triggers (Server.SetChaos): answers with a
	// chosen SMTP error code to MAIL FROM, RCPT TO or AUTH.
	Chaos bool
}

// Server is one running mailpit.
type Server struct {
	Host string // SMTP host: 127.0.0.1
	Port int    // SMTP port
	// API is the HTTP API's root, http://127.0.0.1:PORT.
	API string
	// RootCAs trusts the server's certificate when Options.TLS is set.
	RootCAs *x509.CertPool

	cmd  *exec.Cmd
	done chan struct{}
	log  *lockedBuffer
}

// Addr is the SMTP address, host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Start runs a mailpit for the test and stops it when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin := binary(t)
	dir := t.TempDir()
	srv := &Server{Host: "127.0.0.1", log: &lockedBuffer{}, done: make(chan struct{})}
	smtpPort, httpPort := freePort(t), freePort(t)
	srv.Port = smtpPort
	srv.API = "http://127.0.0.1:" + strconv.Itoa(httpPort)
	args := []string{
		"--smtp", srv.Addr(),
		"--listen", "127.0.0.1:" + strconv.Itoa(httpPort),
		"--database", filepath.Join(dir, "mailpit.db"),
		"--smtp-disable-rdns", "--disable-version-check",
	}
	if o.TLS != "" {
		cert, key, pool := selfSigned(t, dir)
		srv.RootCAs = pool
		args = append(args, "--smtp-tls-cert", cert, "--smtp-tls-key", key)
		switch o.TLS {
		case "implicit":
			args = append(args, "--smtp-require-tls")
		case "starttls":
			if o.RequireTLS {
				args = append(args, "--smtp-require-starttls")
			}
		default:
			t.Fatalf("mailpit: TLS %q: want \"\", starttls or implicit", o.TLS)
		}
	}
	if len(o.Users) > 0 {
		names := make([]string, 0, len(o.Users))
		for n := range o.Users {
			names = append(names, n)
		}
		sort.Strings(names)
		var b strings.Builder
		for _, n := range names {
			fmt.Fprintf(&b, "%s:%s\n", n, o.Users[n]) // htpasswd takes plain text
		}
		file := filepath.Join(dir, "smtp-users")
		if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
			t.Fatalf("mailpit: %v", err)
		}
		args = append(args, "--smtp-auth-file", file)
	}
	if o.InsecureAuth {
		args = append(args, "--smtp-auth-allow-insecure")
	}
	if o.AllowedRecipients != "" {
		args = append(args, "--smtp-allowed-recipients", o.AllowedRecipients)
	}
	if o.Chaos {
		args = append(args, "--enable-chaos")
	}

	srv.cmd = exec.Command(bin, args...)
	srv.cmd.Stdout, srv.cmd.Stderr = srv.log, srv.log
	if err := srv.cmd.Start(); err != nil {
		t.Fatalf("mailpit: start %s: %v", bin, err)
	}
	go func() { _ = srv.cmd.Wait(); close(srv.done) }()
	t.Cleanup(srv.stop)
	if err := srv.waitReady(); err != nil {
		t.Fatalf("mailpit: %v\nmailpit %s said:\n%s", err, strings.Join(args, " "), srv.log.String())
	}
	return srv
}

func (s *Server) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// waitReady waits until the API answers /readyz and the SMTP port takes
// connections, or mailpit exits.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("mailpit exited before it was ready")
		default:
		}
		if resp, err := http.Get(s.API + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
					c.Close()
					return nil
				}
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not listening on %s and %s after %v", s.Addr(), s.API, startTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Log is what mailpit has written so far, for failure messages.
func (s *Server) Log() string { return s.log.String() }

// Address is a mailbox as mailpit reports it.
type Address struct {
	Name    string
	Address string
}

// Summary is one message in the list.
type Summary struct {
	ID        string // mailpit's own id, for Message and Headers
	MessageID string // the Message-ID header, without <>
	From      Address
	To        []Address
	Subject   string
}

// Message is one received message, parsed by mailpit.
type Message struct {
	ID        string
	MessageID string
	From      Address
	To        []Address
	Subject   string
	Text      string
	HTML      string
	// ListUnsubscribe is mailpit's reading of the List-Unsubscribe headers.
	ListUnsubscribe struct {
		Header     string
		HeaderPost string
		Links      []string
		Errors     string
	}
}

// Messages lists what the server received, newest first.
func (s *Server) Messages(t testing.TB) []Summary {
	t.Helper()
	var out struct {
		Messages []Summary `json:"messages"`
	}
	s.getJSON(t, "/api/v1/messages?limit=1000", &out)
	return out.Messages
}

// Message reads one message with its text and HTML bodies.
func (s *Server) Message(t testing.TB, id string) Message {
	t.Helper()
	var m Message
	s.getJSON(t, "/api/v1/message/"+url.PathEscape(id), &m)
	return m
}

// Headers reads one message's headers as sent.
func (s *Server) Headers(t testing.TB, id string) map[string][]string {
	t.Helper()
	var h map[string][]string
	s.getJSON(t, "/api/v1/message/"+url.PathEscape(id)+"/headers", &h)
	return h
}

// Raw reads one message's source as sent.
func (s *Server) Raw(t testing.TB, id string) []byte {
	t.Helper()
	return s.call(t, http.MethodGet, "/api/v1/message/"+url.PathEscape(id)+"/raw", nil)
}

// HTMLCheck is mailpit's reading of a message's HTML against caniemail.com's
// tables of what mail clients support: per cent of the checks each way.
type HTMLCheck struct {
	Total struct {
		Supported, Partial, Unsupported float64
	}
	Warnings []struct {
		Title string
		Score struct {
			Found       int
			Unsupported float64
		}
	}
}

// CheckHTML runs mailpit's HTML compatibility check on one message.
func (s *Server) CheckHTML(t testing.TB, id string) HTMLCheck {
	t.Helper()
	var c HTMLCheck
	s.getJSON(t, "/api/v1/message/"+url.PathEscape(id)+"/html-check", &c)
	return c
}

// DeleteAll removes every received message.
func (s *Server) DeleteAll(t testing.TB) {
	t.Helper()
	s.call(t, http.MethodDelete, "/api/v1/messages", []byte(`{}`))
}

// Trigger makes one SMTP step answer ErrorCode for Probability percent of
// the commands (100: every one). A zero Trigger turns the step's chaos off.
type Trigger struct {
	ErrorCode   int
	Probability int
}

// Chaos are the triggers for MAIL FROM (Sender), RCPT TO (Recipient) and
// AUTH (Authentication).
type Chaos struct {
	Sender, Recipient, Authentication Trigger
}

// SetChaos replaces the server's chaos triggers (Options.Chaos must be set).
func (s *Server) SetChaos(t testing.TB, c Chaos) {
	t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	s.call(t, http.MethodPut, "/api/v1/chaos", b)
}

func (s *Server) getJSON(t testing.TB, path string, v any) {
	t.Helper()
	if err := json.Unmarshal(s.call(t, http.MethodGet, path, nil), v); err != nil {
		t.Fatalf("mailpit: GET %s: %v", path, err)
	}
}

func (s *Server) call(t testing.TB, method, path string, body []byte) []byte {
	t.Helper()
	req, err := http.NewRequest(method, s.API+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("mailpit: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("mailpit: %s %s: %v", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit: %s %s: HTTP %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(b))
	}
	return b
}

// --- the binary -------------------------------------------------------------

var (
	findOnce sync.Once
	found    string
	findErr  error
)

// binary returns mailpit's path, building it once per test binary when it
// is nowhere to be found.
func binary(t testing.TB) string {
	t.Helper()
	findOnce.Do(func() { found, findErr = find(t) })
	if findErr != nil {
		msg := "mailpit: " + findErr.Error() + "; run ./scripts/deps (it builds mailpit " + Version +
			" into its cache) or set " + envBinary + " to a mailpit binary"
		if os.Getenv(envRequire) == "1" {
			t.Fatal(msg + " (" + envRequire + "=1, so this is a failure, not a skip)")
		}
		t.Skip(msg)
	}
	return found
}

// CachePath is where scripts/deps puts the binary:
// $XDG_CACHE_HOME/orderhub/mailpit-VERSION/mailpit (~/.cache when unset).
func CachePath() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, "orderhub", "mailpit-"+Version, "mailpit"), nil
}

func find(t testing.TB) (string, error) {
	if p := os.Getenv(envBinary); p != "" {
		if !executable(p) {
			return "", fmt.Errorf("%s=%s is not an executable file", envBinary, p)
		}
		return p, nil
	}
	p, err := CachePath()
	if err != nil {
		return "", fmt.Errorf("no cache directory for the mailpit binary: %w", err)
	}
	if executable(p) {
		return p, nil
	}
	t.Logf("mailpit: %s not found; building %s@%s into it (once; a few minutes on a fresh machine)", p, Module, Version)
	if err := build(p); err != nil {
		return "", err
	}
	return p, nil
}

// build runs go install into a fresh directory beside dst and renames the
// result into place, so a concurrent build elsewhere never sees half a
// binary.
func build(dst string) error {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("mailpit is not built and there is no go command to build it")
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("building mailpit: %w", err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dst), "build-")
	if err != nil {
		return fmt.Errorf("building mailpit: %w", err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "install", Module+"@"+Version)
	// Outside any module, so the repository's go.mod and GOFLAGS play no part.
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go install %s@%s failed: %v: %s", Module, Version, err, lastLines(out, 5))
	}
	if err := os.Rename(filepath.Join(tmp, "mailpit"), dst); err != nil {
		return fmt.Errorf("building mailpit: %w", err)
	}
	return nil
}

func executable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// --- helpers ------------------------------------------------------------------

// freePort asks the kernel for a free loopback port. Another process could
// take it before mailpit binds it; mailpit then exits and Start fails with
// its log, which on a test machine is rare enough not to retry.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailpit: no free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// selfSigned writes a certificate for 127.0.0.1 and localhost and its key
// into dir, and returns their paths and a pool that trusts it.
func selfSigned(t testing.TB, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "mailpit test server"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := errors.Join(
		os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600),
		os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600),
	); err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// lockedBuffer collects mailpit's output from its two pipes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
