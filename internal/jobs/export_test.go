package jobs

import "time"

// SetPacing sets how long a caught-up drain waits before it reads again and
// how long one drain may run, so that a test sees both in little time.
func (d *Dispatcher) SetPacing(pace, maxRun time.Duration) { d.pace, d.maxRun = pace, maxRun }

// SetLinger sets how long a dispatch job that found nothing waits for more,
// and how often it reads meanwhile.
func (d *Dispatcher) SetLinger(linger, idlePoll time.Duration) {
	d.linger, d.idlePoll = linger, idlePoll
}
