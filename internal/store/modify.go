package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// modifyAttempts bounds Modify: a row this contended is a bug to report, not to spin on.
const modifyAttempts = 20

// Modify reads the resource id from s, lets change edit it, and writes it back only if
// nobody wrote it in between (Version); when somebody did, it reads it again and retries,
// backing off, at most a bounded number of times and never past ctx. change may return an
// error to stop without writing (returned as is). s may be a transaction. It returns the
// resource as written.
func Modify(ctx context.Context, s Store, id string, change func(r *Resource) error) (*Resource, error) {
	backoff := time.Millisecond
	for attempt := 1; ; attempt++ {
		r, err := s.GetResource(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := change(r); err != nil {
			return nil, err
		}
		err = s.UpdateResource(ctx, r)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, ErrConflict) {
			return nil, err
		}
		if attempt == modifyAttempts {
			return nil, fmt.Errorf("modify %s: changed by others %d times in a row: %w", id, attempt, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("modify %s: %w", id, ctx.Err())
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 100*time.Millisecond)
	}
}
