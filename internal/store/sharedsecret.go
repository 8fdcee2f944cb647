package store

import (
	"context"
	"fmt"
)

// EnsureSharedSecret stores value under name unless a value is already stored, and returns
// the stored one: value when this call inserted it, else the earlier one. Concurrent callers
// with different values all get the same winner's value.
func (s *sqlStore) EnsureSharedSecret(ctx context.Context, name string, value []byte) ([]byte, error) {
	if name == "" || len(value) == 0 {
		return nil, fmt.Errorf("ensure shared secret %q: empty name or value", name)
	}
	if err := s.hit("EnsureSharedSecret", "before"); err != nil {
		return nil, fmt.Errorf("ensure shared secret %s: %w", name, err)
	}
	if _, err := s.exec(ctx, `INSERT INTO shared_secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		name, value, millis(now())); err != nil {
		return nil, fmt.Errorf("ensure shared secret %s: %w", name, err)
	}
	if err := s.hit("EnsureSharedSecret", "after"); err != nil {
		return nil, fmt.Errorf("ensure shared secret %s: %w", name, err)
	}
	return s.GetSharedSecret(ctx, name)
}

// GetSharedSecret returns the value stored under name, or ErrNotFound.
func (s *sqlStore) GetSharedSecret(ctx context.Context, name string) ([]byte, error) {
	var value []byte
	if err := s.queryRow(ctx, `SELECT value FROM shared_secrets WHERE name = ?`, name).Scan(&value); err != nil {
		return nil, fmt.Errorf("get shared secret %s: %w", name, s.d.translate(err))
	}
	return value, nil
}

// DeleteSharedSecret removes the value stored under name; a missing name is not an error.
func (s *sqlStore) DeleteSharedSecret(ctx context.Context, name string) error {
	if err := s.hit("DeleteSharedSecret", "before"); err != nil {
		return fmt.Errorf("delete shared secret %s: %w", name, err)
	}
	if _, err := s.exec(ctx, `DELETE FROM shared_secrets WHERE name = ?`, name); err != nil {
		return fmt.Errorf("delete shared secret %s: %w", name, err)
	}
	if err := s.hit("DeleteSharedSecret", "after"); err != nil {
		return fmt.Errorf("delete shared secret %s: %w", name, err)
	}
	return nil
}
