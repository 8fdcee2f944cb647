// Package accept holds the accept loop shared by mlfleet's own listeners (the front door,
// the embedded apiservers' authorized listener).
package accept

import (
	"errors"
	"net"
	"time"
)

// Loop accepts connections from ln and hands each to serve until serve returns false or
// done is closed. A temporary error (out of file descriptors and the like) is retried after
// a short back-off, as net/http does; any other error is sent to errs, unless done is closed
// first, and ends the loop.
func Loop(ln net.Listener, done <-chan struct{}, errs chan<- error, serve func(net.Conn) bool) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			var temporary interface{ Temporary() bool }
			if errors.As(err, &temporary) && temporary.Temporary() {
				select {
				case <-time.After(50 * time.Millisecond):
					continue
				case <-done:
					return
				}
			}
			select {
			case errs <- err:
			case <-done:
			}
			return
		}
		if !serve(conn) {
			return
		}
	}
}
