package store

import (
	"context"
	"fmt"
	"strings"
)

const resourceColumns = `id, parent_id, type, name, subscription_id, resource_group, location, body, version, created_at, updated_at, owner_id`

func scanResource(sc scanner) (*Resource, error) {
	var (
		r                Resource
		created, updated int64
	)
	if err := sc.Scan(&r.ID, &r.ParentID, &r.Type, &r.Name, &r.SubscriptionID, &r.ResourceGroup,
		&r.Location, &r.Body, &r.Version, &created, &updated, &r.OwnerID); err != nil {
		return nil, err
	}
	r.CreatedAt, r.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &r, nil
}

// CreateResource inserts r, setting Version to 1 and the timestamps.
func (s *sqlStore) CreateResource(ctx context.Context, r *Resource) error {
	if r.ID == "" {
		return fmt.Errorf("create resource: empty id")
	}
	t := now()
	what := "CreateResource/" + r.Type
	if err := s.hit(what, "before"); err != nil {
		return fmt.Errorf("create resource %s: %w", r.ID, err)
	}
	_, err := s.exec(ctx, `INSERT INTO resources
	(key, id, parent_key, parent_id, type, type_key, name, subscription_id, resource_group, location, body, version, created_at, updated_at, owner_key, owner_id)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?)`,
		idKey(r.ID), r.ID, idKey(r.ParentID), r.ParentID, r.Type, idKey(r.Type), r.Name, r.SubscriptionID,
		r.ResourceGroup, r.Location, r.Body, millis(t), millis(t), idKey(r.OwnerID), r.OwnerID)
	if err != nil {
		return fmt.Errorf("create resource %s: %w", r.ID, err)
	}
	r.Version, r.CreatedAt, r.UpdatedAt = 1, t, t
	return s.hit(what, "after")
}

// GetResource returns the resource with this id (any case), or ErrNotFound.
func (s *sqlStore) GetResource(ctx context.Context, id string) (*Resource, error) {
	return queryOne(ctx, s, "get resource "+id, scanResource, `SELECT `+resourceColumns+` FROM resources WHERE key = ?`, idKey(id))
}

// UpdateResource replaces Body and Location if the stored Version equals r.Version.
func (s *sqlStore) UpdateResource(ctx context.Context, r *Resource) error {
	t := now()
	what := "UpdateResource/" + r.Type
	if r.Type == "" {
		what = "UpdateResource"
	}
	if err := s.hit(what, "before"); err != nil {
		return fmt.Errorf("update resource %s: %w", r.ID, err)
	}
	n, err := s.exec(ctx, `UPDATE resources SET body = ?, location = ?, version = version + 1, updated_at = ?
	WHERE key = ? AND version = ?`,
		r.Body, r.Location, millis(t), idKey(r.ID), r.Version)
	if err != nil {
		return fmt.Errorf("update resource %s: %w", r.ID, err)
	}
	if n == 0 {
		return s.versionMissed(ctx, "update resource", r.ID, r.Version)
	}
	r.Version++
	r.UpdatedAt = t
	return s.hit(what, "after")
}

// DeleteResource removes the resource with this id (any case), if its version is ifVersion
// when that is set.
func (s *sqlStore) DeleteResource(ctx context.Context, id string, ifVersion int64) error {
	what := "DeleteResource/" + resourceKind(id)
	if err := s.hit(what, "before"); err != nil {
		return fmt.Errorf("delete resource %s: %w", id, err)
	}
	q, args := `DELETE FROM resources WHERE key = ?`, []any{idKey(id)}
	if ifVersion > 0 {
		q += ` AND version = ?`
		args = append(args, ifVersion)
	}
	n, err := s.exec(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("delete resource %s: %w", id, err)
	}
	if n == 0 {
		return s.versionMissed(ctx, "delete resource", id, ifVersion)
	}
	return s.hit(what, "after")
}

// versionMissed explains why a version-guarded write of resource id changed nothing: the
// resource is gone (ErrNotFound), or its version is no longer version (ErrConflict).
func (s *sqlStore) versionMissed(ctx context.Context, verb, id string, version int64) error {
	found, err := s.exists(ctx, "resources", idKey(id))
	switch {
	case err != nil:
		return fmt.Errorf("%s %s: %w", verb, id, err)
	case found:
		return fmt.Errorf("%s %s: version %d is stale: %w", verb, id, version, ErrConflict)
	}
	return fmt.Errorf("%s %s: %w", verb, id, ErrNotFound)
}

// resourceKind names what an id is, for failpoint names: its type segments without the
// names, e.g. "workspaces/computes" for a compute, "locations/computeNames" for a name claim.
func resourceKind(id string) string {
	segs := strings.Split(strings.Trim(id, "/"), "/")
	var kinds []string
	for i := 0; i < len(segs); i += 2 {
		switch strings.ToLower(segs[i]) {
		case "subscriptions", "providers":
		case "resourcegroups":
			kinds = append(kinds, "resourceGroups")
		default:
			kinds = append(kinds, segs[i])
		}
	}
	if len(kinds) == 0 {
		return "subscriptions"
	}
	return strings.Join(kinds, "/")
}

// ListOrphans returns resources whose owner no longer exists.
func (s *sqlStore) ListOrphans(ctx context.Context, limit int) ([]*Resource, error) {
	q := `SELECT ` + resourceColumns + ` FROM resources r WHERE r.owner_key <> ''
	AND NOT EXISTS (SELECT 1 FROM resources o WHERE o.key = r.owner_key) ORDER BY r.key` + s.d.limitOffset(limit, 0)
	return queryAll(ctx, s, "list orphans", scanResource, q)
}

// ListResources returns the resources selected by opts, ordered by lowercased id.
func (s *sqlStore) ListResources(ctx context.Context, opts ListOptions) ([]*Resource, error) {
	var c conditions
	if opts.Scope != "" {
		// Descendants are the keys starting with scope+"/". Both dialects compare keys
		// bytewise, so those are exactly the keys in [scope+"/", scope+"0"): '0' is the byte
		// after '/'. A range needs no LIKE, hence no escaping of % and _ in ids, and uses
		// the primary key index.
		scope := idKey(opts.Scope)
		c.add("key >= ? AND key < ?", scope+"/", scope+"0")
	}
	if opts.Within != nil {
		if len(opts.Within) == 0 {
			return nil, nil
		}
		var (
			ranges []string
			args   []any
		)
		for _, scope := range opts.Within {
			k := idKey(strings.TrimRight(scope, "/"))
			ranges = append(ranges, "(key = ? OR (key >= ? AND key < ?))")
			args = append(args, k, k+"/", k+"0")
		}
		c.add("("+strings.Join(ranges, " OR ")+")", args...)
	}
	if opts.After != "" {
		c.add("key > ?", idKey(opts.After))
	}
	if opts.ParentID != "" {
		c.add("parent_key = ?", idKey(opts.ParentID))
	}
	if opts.Type != "" {
		c.add("type_key = ?", idKey(opts.Type))
	}
	if opts.Name != "" {
		c.add("LOWER(name) = ?", strings.ToLower(opts.Name))
	}
	if opts.Types != nil {
		if len(opts.Types) == 0 {
			return nil, nil
		}
		marks := make([]string, len(opts.Types))
		args := make([]any, len(opts.Types))
		for i, t := range opts.Types {
			marks[i], args[i] = "?", idKey(t)
		}
		c.add("type_key IN ("+strings.Join(marks, ", ")+")", args...)
	}
	q := `SELECT ` + resourceColumns + ` FROM resources` + c.where() + ` ORDER BY key` + s.d.limitOffset(opts.Limit, opts.Offset)
	return queryAll(ctx, s, "list resources", scanResource, q, c.args...)
}
