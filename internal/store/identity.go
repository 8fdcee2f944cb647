package store

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

const principalColumns = `id, type, login, name, secret_hash, created_by, created_at, updated_at`

func scanPrincipal(sc scanner) (*Principal, error) {
	var (
		p                Principal
		created, updated int64
	)
	if err := sc.Scan(&p.ID, &p.Type, &p.Login, &p.Name, &p.SecretHash, &p.CreatedBy, &created, &updated); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &p, nil
}

// CreatePrincipal stores p (ErrConflict when its id or login is taken).
func (s *sqlStore) CreatePrincipal(ctx context.Context, p *Principal) error {
	if p.ID == "" || p.Login == "" {
		return fmt.Errorf("create principal: empty id or login")
	}
	t := now()
	if err := s.hit("CreatePrincipal", "before"); err != nil {
		return fmt.Errorf("create principal %s: %w", p.Login, err)
	}
	_, err := s.exec(ctx, `INSERT INTO principals (key, id, type, login_key, login, name, secret_hash, created_by, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		idKey(p.ID), p.ID, p.Type, idKey(p.Login), p.Login, p.Name, p.SecretHash, p.CreatedBy, millis(t), millis(t))
	if err != nil {
		return fmt.Errorf("create principal %s: %w", p.Login, err)
	}
	p.CreatedAt, p.UpdatedAt = t, t
	return s.hit("CreatePrincipal", "after")
}

// Authenticate reads a token, its principal and the principal's role assignments with
// one query (a join; one row per assignment, or one with NULL assignment columns).
func (s *sqlStore) Authenticate(ctx context.Context, hash, fallback string) (*Token, *Principal, []*RoleAssignment, error) {
	rows, err := s.q.QueryContext(ctx, s.d.rebind(`SELECT t.hash, t.name, t.role, t.created_at, t.expires_at, t.principal_key,
	p.id, p.type, p.login, p.name, p.secret_hash, p.created_by, p.created_at, p.updated_at,
	ra.name, ra.scope, ra.principal_id, ra.role, ra.created_by, ra.created_at
	FROM tokens t
	JOIN principals p ON p.key = CASE WHEN t.principal_key = '' THEN CAST(? AS TEXT) ELSE t.principal_key END
	LEFT JOIN role_assignments ra ON ra.principal_key = p.key
	WHERE t.hash = ?`), idKey(fallback), hash)
	if err != nil {
		// The hash is a credential; keep it out of error messages.
		return nil, nil, nil, fmt.Errorf("authenticate: %w", s.d.translate(err))
	}
	defer rows.Close()
	var (
		t           *Token
		p           *Principal
		assignments []*RoleAssignment
	)
	for rows.Next() {
		var (
			tok                                   Token
			pr                                    Principal
			tCreated, tExpires, pCreated, pUpdate int64
			aName, aScope, aPrincipal, aRole, aBy sql.NullString
			aCreated                              sql.NullInt64
		)
		if err := rows.Scan(&tok.Hash, &tok.Name, &tok.Role, &tCreated, &tExpires, &tok.PrincipalID,
			&pr.ID, &pr.Type, &pr.Login, &pr.Name, &pr.SecretHash, &pr.CreatedBy, &pCreated, &pUpdate,
			&aName, &aScope, &aPrincipal, &aRole, &aBy, &aCreated); err != nil {
			return nil, nil, nil, fmt.Errorf("authenticate: %w", err)
		}
		if t == nil {
			tok.CreatedAt, tok.ExpiresAt = fromMillis(tCreated), fromMillis(tExpires)
			pr.CreatedAt, pr.UpdatedAt = fromMillis(pCreated), fromMillis(pUpdate)
			t, p = &tok, &pr
		}
		if aName.Valid {
			assignments = append(assignments, &RoleAssignment{Name: aName.String, Scope: aScope.String, PrincipalID: aPrincipal.String,
				Role: aRole.String, CreatedBy: aBy.String, CreatedAt: fromMillis(aCreated.Int64)})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, nil, nil, fmt.Errorf("authenticate: %w", s.d.translate(err))
	}
	if t == nil {
		return nil, nil, nil, fmt.Errorf("authenticate: %w", ErrNotFound)
	}
	// Ordered as ListRoleAssignments orders them (scope_key, key), here rather than by
	// the database, which would sort in a temporary b-tree.
	slices.SortFunc(assignments, func(x, y *RoleAssignment) int {
		return cmp.Or(cmp.Compare(idKey(x.Scope), idKey(y.Scope)), cmp.Compare(idKey(x.Name), idKey(y.Name)))
	})
	return t, p, assignments, nil
}

// GetPrincipal returns the principal whose id or login is ref.
func (s *sqlStore) GetPrincipal(ctx context.Context, ref string) (*Principal, error) {
	return queryOne(ctx, s, "get principal "+ref, scanPrincipal, `SELECT `+principalColumns+` FROM principals WHERE key = ? OR login_key = ?
	ORDER BY CASE WHEN key = ? THEN 0 ELSE 1 END LIMIT 1`, idKey(ref), idKey(ref), idKey(ref))
}

// ListPrincipals returns every principal, ordered by login.
func (s *sqlStore) ListPrincipals(ctx context.Context) ([]*Principal, error) {
	return queryAll(ctx, s, "list principals", scanPrincipal, `SELECT `+principalColumns+` FROM principals ORDER BY login_key`)
}

// SetPrincipalSecret replaces the secret hash and revokes the principal's tokens.
func (s *sqlStore) SetPrincipalSecret(ctx context.Context, id, secretHash string) error {
	return s.InTx(ctx, func(tx Store) error {
		t := tx.(*sqlStore)
		if err := t.hit("SetPrincipalSecret", "before"); err != nil {
			return fmt.Errorf("set secret of %s: %w", id, err)
		}
		n, err := t.exec(ctx, `UPDATE principals SET secret_hash = ?, updated_at = ? WHERE key = ?`, secretHash, millis(now()), idKey(id))
		if err != nil {
			return fmt.Errorf("set secret of %s: %w", id, err)
		}
		if n == 0 {
			return fmt.Errorf("set secret of %s: %w", id, ErrNotFound)
		}
		if _, err := t.exec(ctx, `DELETE FROM tokens WHERE principal_key = ?`, idKey(id)); err != nil {
			return fmt.Errorf("revoke tokens of %s: %w", id, err)
		}
		return nil
	})
}

// DeletePrincipal deletes the principal with its tokens and role assignments.
func (s *sqlStore) DeletePrincipal(ctx context.Context, id string) error {
	return s.InTx(ctx, func(tx Store) error {
		t := tx.(*sqlStore)
		n, err := t.deleteRows(ctx, "DeletePrincipal", "delete principal "+id, `DELETE FROM principals WHERE key = ?`, idKey(id))
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("delete principal %s: %w", id, ErrNotFound)
		}
		for _, table := range []string{"tokens", "role_assignments"} {
			if _, err := t.exec(ctx, `DELETE FROM `+table+` WHERE principal_key = ?`, idKey(id)); err != nil {
				return fmt.Errorf("delete principal %s: %s: %w", id, table, err)
			}
		}
		return nil
	})
}

const roleAssignmentColumns = `name, scope, principal_id, role, created_by, created_at`

func scanRoleAssignment(sc scanner) (*RoleAssignment, error) {
	var (
		a       RoleAssignment
		created int64
	)
	if err := sc.Scan(&a.Name, &a.Scope, &a.PrincipalID, &a.Role, &a.CreatedBy, &created); err != nil {
		return nil, err
	}
	a.CreatedAt = fromMillis(created)
	return &a, nil
}

// CreateRoleAssignment stores a (ErrConflict when the name or the grant exists).
func (s *sqlStore) CreateRoleAssignment(ctx context.Context, a *RoleAssignment) error {
	if a.Name == "" || a.Scope == "" || a.PrincipalID == "" {
		return fmt.Errorf("create role assignment: empty name, scope or principal")
	}
	t := now()
	if err := s.hit("CreateRoleAssignment", "before"); err != nil {
		return fmt.Errorf("create role assignment %s: %w", a.Name, err)
	}
	_, err := s.exec(ctx, `INSERT INTO role_assignments (key, name, scope_key, scope, principal_key, principal_id, role, created_by, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		idKey(a.Name), a.Name, scopeKey(a.Scope), a.Scope, idKey(a.PrincipalID), a.PrincipalID, a.Role, a.CreatedBy, millis(t))
	if err != nil {
		return fmt.Errorf("create role assignment %s: %w", a.Name, err)
	}
	a.CreatedAt = t
	return s.hit("CreateRoleAssignment", "after")
}

// GetRoleAssignment returns the assignment with this name.
func (s *sqlStore) GetRoleAssignment(ctx context.Context, name string) (*RoleAssignment, error) {
	return queryOne(ctx, s, "get role assignment "+name, scanRoleAssignment,
		`SELECT `+roleAssignmentColumns+` FROM role_assignments WHERE key = ?`, idKey(name))
}

// ListRoleAssignments returns the assignments f selects.
func (s *sqlStore) ListRoleAssignments(ctx context.Context, f RoleAssignmentFilter) ([]*RoleAssignment, error) {
	var c conditions
	if f.PrincipalID != "" {
		c.add("principal_key = ?", idKey(f.PrincipalID))
	}
	if f.AtOrBelow != "" {
		w, a := atOrBelow(f.AtOrBelow)
		c.add(w, a...)
	}
	if f.Around != "" {
		below, args := atOrBelow(f.Around)
		above := ancestors(f.Around)
		for _, k := range above {
			args = append(args, k)
		}
		c.add("("+below+" OR scope_key IN ("+strings.TrimSuffix(strings.Repeat("?, ", len(above)), ", ")+"))", args...)
	}
	q := `SELECT ` + roleAssignmentColumns + ` FROM role_assignments` + c.where() + ` ORDER BY scope_key, key`
	return queryAll(ctx, s, "list role assignments", scanRoleAssignment, q, c.args...)
}

// DeleteRoleAssignment deletes the assignment with this name.
func (s *sqlStore) DeleteRoleAssignment(ctx context.Context, name string) error {
	n, err := s.deleteRows(ctx, "DeleteRoleAssignment", "delete role assignment "+name, `DELETE FROM role_assignments WHERE key = ?`, idKey(name))
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("delete role assignment %s: %w", name, ErrNotFound)
	}
	return nil
}

// DeleteRoleAssignmentsAtOrBelow deletes the assignments at scope or below it.
func (s *sqlStore) DeleteRoleAssignmentsAtOrBelow(ctx context.Context, scope string) (int, error) {
	w, args := atOrBelow(scope)
	n, err := s.deleteRows(ctx, "DeleteRoleAssignmentsAtOrBelow", "delete role assignments under "+scope,
		`DELETE FROM role_assignments WHERE `+w, args...)
	return int(n), err
}

// scopeKey is the stored form of a scope: lowercased, without a trailing slash except for
// the root "/".
func scopeKey(scope string) string {
	k := strings.TrimRight(idKey(scope), "/")
	if k == "" {
		return "/"
	}
	return k
}

// atOrBelow is the condition on scope_key for "at scope or below it", with its arguments.
// Below are the keys in [scope+"/", scope+"0") (see ListResources); below the root is
// everything.
func atOrBelow(scope string) (string, []any) {
	k := scopeKey(scope)
	if k == "/" {
		return "1 = 1", nil
	}
	return "(scope_key = ? OR (scope_key >= ? AND scope_key < ?))", []any{k, k + "/", k + "0"}
}

// ancestors returns the keys of every scope strictly above scope: the root and each
// shorter prefix ending at a segment boundary.
func ancestors(scope string) []string {
	k := scopeKey(scope)
	out := []string{"/"}
	for i := 1; i < len(k); i++ {
		if k[i] == '/' {
			out = append(out, k[:i])
		}
	}
	return out
}

// CreateToken stores a token (ErrConflict if the hash exists).
func (s *sqlStore) CreateToken(ctx context.Context, t *Token) error {
	if t.Hash == "" {
		return fmt.Errorf("create token: empty hash")
	}
	if err := s.hit("CreateToken", "before"); err != nil {
		return fmt.Errorf("create token %s: %w", t.Name, err)
	}
	_, err := s.exec(ctx, `INSERT INTO tokens (hash, name, role, created_at, expires_at, principal_key) VALUES (?, ?, ?, ?, ?, ?)`,
		t.Hash, t.Name, t.Role, millis(t.CreatedAt), millis(t.ExpiresAt), idKey(t.PrincipalID))
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.Name, err)
	}
	return s.hit("CreateToken", "after")
}

// GetToken returns the token with this hash, or ErrNotFound.
func (s *sqlStore) GetToken(ctx context.Context, hash string) (*Token, error) {
	var (
		t                Token
		created, expires int64
	)
	err := s.queryRow(ctx, `SELECT hash, name, role, created_at, expires_at, principal_key FROM tokens WHERE hash = ?`, hash).
		Scan(&t.Hash, &t.Name, &t.Role, &created, &expires, &t.PrincipalID)
	if err != nil {
		// The hash is a credential; keep it out of error messages.
		return nil, fmt.Errorf("get token: %w", s.d.translate(err))
	}
	t.CreatedAt, t.ExpiresAt = fromMillis(created), fromMillis(expires)
	return &t, nil
}
