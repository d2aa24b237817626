// Package version tells which orderhub build is running: the release, the
// commit it was built from and whether the tree had uncommitted changes.
//
// The go command records the commit itself (vcs.revision, vcs.time,
// vcs.modified in the binary's build information) when it builds in a git
// checkout: `go build` and `go install` do by default, `go run` only with
// -buildvcs=true. It records nothing when .git is not a directory (a git
// worktree) or absent (a source archive, a Docker build context without
// .git); those builds pass the commit in with -ldflags, as the Dockerfile
// does:
//
//	go build -ldflags "-X orderhub/internal/version.Commit=$(git rev-parse HEAD)" ./cmd/orderhub
package version

import (
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is the release, set at build time with
// -ldflags "-X orderhub/internal/version.Version=v1.2.3". Left as "dev", a
// build of a tagged commit takes the tag the go command recorded.
var Version = "dev"

// Commit is the commit, set at build time with
// -ldflags "-X orderhub/internal/version.Commit=…" where the go command cannot
// record it. The go command's own record wins when there is one: it also
// knows whether the tree was modified.
var Commit = ""

// Info describes a build.
type Info struct {
	Version  string // the release, or "dev"
	Commit   string // the full commit hash; empty when the build recorded none
	Time     string // the commit's time (RFC 3339), when the go command recorded it
	Modified bool   // the checkout had uncommitted changes
	Go       string // the Go toolchain, e.g. go1.26.8
}

// Get describes the running binary.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	return fromBuild(bi, ok, Version, Commit)
}

// String is the short form for logs and /healthz: "dev (5d64111b2a25)", with
// "+modified" after the commit when the tree had changes, or just the
// release when no commit was recorded.
func String() string { return Get().Short() }

// pseudo matches a module pseudo-version (v0.0.0-20261202043035-28b55a15705a),
// which the go command records for an untagged commit; the commit is shown
// on its own, so it is no release.
var pseudo = regexp.MustCompile(`[0-9]{14}-[0-9a-f]{12}(\+dirty)?$`)

func fromBuild(bi *debug.BuildInfo, ok bool, version, commit string) Info {
	i := Info{Version: version, Commit: commit, Go: runtime.Version()}
	if !ok || bi == nil {
		return i
	}
	if bi.GoVersion != "" {
		i.Go = bi.GoVersion
	}
	if v := bi.Main.Version; i.Version == "dev" && v != "" && v != "(devel)" && !pseudo.MatchString(v) {
		i.Version = strings.TrimSuffix(v, "+dirty")
	}
	var rev, at, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev != "" {
		i.Commit, i.Time, i.Modified = rev, at, modified == "true"
	}
	return i
}

// Short is the release and the commit's first 12 characters.
func (i Info) Short() string {
	if i.Commit == "" {
		return i.Version
	}
	c := i.Commit[:min(len(i.Commit), 12)]
	if i.Modified {
		c += "+modified"
	}
	return i.Version + " (" + c + ")"
}

// String is the long form `orderhub version` prints: the release, the full
// commit with its time and state, and the Go toolchain.
func (i Info) String() string {
	var b strings.Builder
	b.WriteString(i.Version)
	if i.Commit == "" {
		b.WriteString(" (commit unknown)")
	} else {
		b.WriteString(" (commit " + i.Commit)
		if i.Time != "" {
			b.WriteString(", " + i.Time)
		}
		if i.Modified {
			b.WriteString(", with uncommitted changes")
		}
		b.WriteString(")")
	}
	b.WriteString(" " + i.Go)
	return b.String()
}

// CommitHelp says where a build's commit comes from, for a build that has
// none and for --help.
const CommitHelp = `go build and go install record the commit in a git checkout; go run only
with -buildvcs=true (go run -buildvcs=true ./cmd/orderhub version). Nothing is
recorded when .git is not a directory (a git worktree) or is absent, or with
GOFLAGS=-buildvcs=false; pass the commit in then:
  go build -ldflags "-X orderhub/internal/version.Commit=$(git rev-parse HEAD)" ./cmd/orderhub`
