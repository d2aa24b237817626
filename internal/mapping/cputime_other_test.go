//go:build !linux

package mapping

import "time"

func threadCPU() time.Duration { return 0 }
