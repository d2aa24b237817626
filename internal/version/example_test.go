package version_test

import (
	"fmt"

	"orderhub/internal/version"
)

func ExampleInfo() {
	i := version.Info{
		Version:  "v1.4.0",
		Commit:   "5d64111b2a256bf535740b64177a2992f2a7a2e5",
		Time:     "2026-12-02T04:25:00Z",
		Modified: true,
		Go:       "go1.26.8",
	}
	fmt.Println(i.Short())
	fmt.Println(i)
	// Output:
	// v1.4.0 (5d64111b2a25+modified)
	// v1.4.0 (commit 5d64111b2a256bf535740b64177a2992f2a7a2e5, 2026-12-02T04:25:00Z, with uncommitted changes) go1.26.8
}
