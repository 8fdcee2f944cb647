package resources

import (
	"context"
	"errors"
	"fmt"

	"github.com/mlfleet/mlfleet/internal/store"
)

// upsertAttempts bounds Upsert, so that a row changed without pause still gets an answer.
const upsertAttempts = 20

// Upsert is the create-or-update of a PUT, idempotent as ARM's: when row id is missing it
// stores the row that create returns, or else it changes the stored row with update and
// writes it at the version it read. A create that loses to a concurrent create becomes an
// update, and an update that loses to a concurrent change reads again. create and update
// may run more than once; update's errors are returned as they are. what names the
// resource in errors ("resource group rg1"). created is true when the row is new.
func Upsert(ctx context.Context, st store.Store, what, id string, create func() *store.Resource, update func(existing *store.Resource) error) (created bool, err error) {
	for attempt := 1; attempt <= upsertAttempts; attempt++ {
		existing, err := st.GetResource(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			err = st.CreateResource(ctx, create())
			if errors.Is(err, store.ErrConflict) {
				continue // created concurrently: update it instead
			}
			if err != nil {
				return false, fmt.Errorf("create %s: %w", what, err)
			}
			return true, nil
		}
		if err != nil {
			return false, fmt.Errorf("get %s: %w", what, err)
		}
		if err := update(existing); err != nil {
			return false, err
		}
		err = st.UpdateResource(ctx, existing)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return false, fmt.Errorf("update %s: %w", what, err)
		}
		return false, nil
	}
	return false, fmt.Errorf("put %s: changed by others %d times in a row: %w", what, upsertAttempts, store.ErrConflict)
}
