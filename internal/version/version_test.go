package version

import (
	"runtime"
	"runtime/debug"
	"testing"
)

// buildInfo is what `go version -m` shows for a binary, as the go command
// writes it into the build: one line per module and setting.
func buildInfo(t *testing.T, mainVersion string, settings ...string) *debug.BuildInfo {
	t.Helper()
	text := "go\tgo1.26.8\npath\torderhub/cmd/orderhub\nmod\torderhub\t" + mainVersion + "\t\n"
	for _, s := range settings {
		text += "build\t" + s + "\n"
	}
	bi, err := debug.ParseBuildInfo(text)
	if err != nil {
		t.Fatalf("parsing build info %q: %v", text, err)
	}
	return bi
}

const rev = "5d64111b2a256bf535740b64177a2992f2a7a2e5"

func TestFromBuild(t *testing.T) {
	vcs := []string{"vcs=git", "vcs.revision=" + rev, "vcs.time=2026-12-02T04:25:00Z", "vcs.modified=false"}
	dirty := []string{"vcs=git", "vcs.revision=" + rev, "vcs.time=2026-12-02T04:25:00Z", "vcs.modified=true"}
	for _, tc := range []struct {
		name            string
		bi              *debug.BuildInfo
		ok              bool
		version, commit string // the -ldflags -X values
		want            Info
		wantShort       string
		wantString      string
	}{
		{
			name: "go build in a git checkout",
			bi:   buildInfo(t, "v0.0.0-20261202042500-5d64111b2a25", vcs...), ok: true, version: "dev",
			want:       Info{Version: "dev", Commit: rev, Time: "2026-12-02T04:25:00Z", Go: "go1.26.8"},
			wantShort:  "dev (5d64111b2a25)",
			wantString: "dev (commit " + rev + ", 2026-12-02T04:25:00Z) go1.26.8",
		},
		{
			name: "go build with uncommitted changes",
			bi:   buildInfo(t, "v0.0.0-20261202042500-5d64111b2a25+dirty", dirty...), ok: true, version: "dev",
			want:       Info{Version: "dev", Commit: rev, Time: "2026-12-02T04:25:00Z", Modified: true, Go: "go1.26.8"},
			wantShort:  "dev (5d64111b2a25+modified)",
			wantString: "dev (commit " + rev + ", 2026-12-02T04:25:00Z, with uncommitted changes) go1.26.8",
		},
		{
			name: "go build of a tagged commit takes the tag",
			bi:   buildInfo(t, "v1.4.0", vcs...), ok: true, version: "dev",
			want:      Info{Version: "v1.4.0", Commit: rev, Time: "2026-12-02T04:25:00Z", Go: "go1.26.8"},
			wantShort: "v1.4.0 (5d64111b2a25)",
		},
		{
			name: "a release set with -X wins over the tag",
			bi:   buildInfo(t, "v1.4.0", vcs...), ok: true, version: "v1.4.1",
			want:      Info{Version: "v1.4.1", Commit: rev, Time: "2026-12-02T04:25:00Z", Go: "go1.26.8"},
			wantShort: "v1.4.1 (5d64111b2a25)",
		},
		{
			name: "go run records no commit",
			bi:   buildInfo(t, "(devel)"), ok: true, version: "dev",
			want:       Info{Version: "dev", Go: "go1.26.8"},
			wantShort:  "dev",
			wantString: "dev (commit unknown) go1.26.8",
		},
		{
			name: "a commit passed with -X where the go command recorded none",
			bi:   buildInfo(t, "(devel)"), ok: true, version: "v2.0.0", commit: rev,
			want:       Info{Version: "v2.0.0", Commit: rev, Go: "go1.26.8"},
			wantShort:  "v2.0.0 (5d64111b2a25)",
			wantString: "v2.0.0 (commit " + rev + ") go1.26.8",
		},
		{
			name: "the go command's record wins over -X: it knows about changes",
			bi:   buildInfo(t, "(devel)", dirty...), ok: true, version: "dev", commit: "0123456789abcdef0123456789abcdef01234567",
			want:      Info{Version: "dev", Commit: rev, Time: "2026-12-02T04:25:00Z", Modified: true, Go: "go1.26.8"},
			wantShort: "dev (5d64111b2a25+modified)",
		},
		{
			name: "no build information at all",
			ok:   false, version: "dev",
			want:      Info{Version: "dev", Go: runtime.Version()},
			wantShort: "dev",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := fromBuild(tc.bi, tc.ok, tc.version, tc.commit)
			if got != tc.want {
				t.Fatalf("fromBuild = %+v, want %+v", got, tc.want)
			}
			if s := got.Short(); s != tc.wantShort {
				t.Errorf("Short() = %q, want %q", s, tc.wantShort)
			}
			if tc.wantString != "" && got.String() != tc.wantString {
				t.Errorf("String() = %q, want %q", got.String(), tc.wantString)
			}
		})
	}
}

// A test binary is built by go test, which never records a commit: Get
// reads the real build information and finds none, unless one is passed in.
func TestGetUnderGoTest(t *testing.T) {
	if c := Get().Commit; c != Commit {
		t.Errorf("Get().Commit = %q under go test, want only the -X value %q", c, Commit)
	}
	if g := Get().Go; g != runtime.Version() {
		t.Errorf("Get().Go = %q, want %q", g, runtime.Version())
	}
}
