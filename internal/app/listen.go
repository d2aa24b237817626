package app

import (
	"fmt"
	"net"
	"os"
	"strconv"
)

// listen returns the socket to serve on, and whether it was inherited.
//
// Under systemd socket activation (LISTEN_PID names this process and
// LISTEN_FDS is 1) it is the socket systemd passed as descriptor 3. systemd
// keeps that socket open while the service restarts, so a connection made
// while no orderhub runs waits in the socket's queue for the next one
// instead of being refused: on a single SQLite node this is what makes a
// restart refuse nothing. Otherwise listen binds addr.
func listen(addr string) (net.Listener, bool, error) {
	pid, fds := os.Getenv("LISTEN_PID"), os.Getenv("LISTEN_FDS")
	if pid == "" || fds == "" || pid != strconv.Itoa(os.Getpid()) {
		// Not activated, or the variables were meant for a parent.
		ln, err := net.Listen("tcp", addr)
		return ln, false, err
	}
	// Children (none today) must not take the socket for their own.
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		_ = os.Unsetenv(k)
	}
	if n, err := strconv.Atoi(fds); err != nil || n != 1 {
		return nil, false, fmt.Errorf("systemd passed LISTEN_FDS=%s; orderhub serves on exactly one socket: give its .socket unit a single ListenStream=", fds)
	}
	const first = 3 // SD_LISTEN_FDS_START
	f := os.NewFile(first, "systemd socket")
	ln, err := net.FileListener(f) // a duplicate: f itself is not needed after
	f.Close()
	if err != nil {
		return nil, false, fmt.Errorf("using the socket systemd passed (descriptor %d): %w", first, err)
	}
	return ln, true, nil
}
