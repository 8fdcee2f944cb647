package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mlfleet/mlfleet/internal/testutil"
)

// The contract suite: every Store implementation must pass runContract. It runs against
// SQLite always and against PostgreSQL when MLFLEET_TEST_POSTGRES holds a DSN, e.g.
//
//	export MLFLEET_TEST_POSTGRES=$(hack/postgres.sh)

func TestSQLite(t *testing.T) {
	t.Parallel()
	runContract(t, func(t *testing.T) func() Store {
		path := filepath.Join(t.TempDir(), "mlfleet.db")
		return func() Store { return mustOpen(t, path) }
	})
}

func TestPostgres(t *testing.T) {
	dsn := os.Getenv("MLFLEET_TEST_POSTGRES")
	if dsn == "" {
		t.Skip("MLFLEET_TEST_POSTGRES is not set; export MLFLEET_TEST_POSTGRES=$(hack/postgres.sh) to run")
	}
	t.Parallel()
	runContract(t, postgresDatabases(t, dsn))
}

// postgresDatabases returns a newDatabase function for runContract that gives each test its
// own schema in the database dsn names, dropped when the test ends.
func postgresDatabases(t *testing.T, dsn string) func(t *testing.T) func() Store {
	admin, _, err := openDB(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	return func(t *testing.T) func() Store {
		schema := "mlfleet_test_" + randomHex(t, 8)
		ctx := context.Background()
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
			t.Fatalf("create schema: %v", err)
		}
		t.Cleanup(func() {
			if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				t.Errorf("drop schema: %v", err)
			}
		})
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("parse MLFLEET_TEST_POSTGRES: %v", err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		u.RawQuery = q.Encode()
		return func() Store { return mustOpen(t, u.String()) }
	}
}

func mustOpen(t testing.TB, dsn string) Store {
	t.Helper()
	s, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// runContract runs the Store contract. newDatabase makes an empty database for one test and
// returns a function opening a Store on it; each call opens another connection pool on the
// same database, as another process would.
func runContract(t *testing.T, newDatabase func(t *testing.T) func() Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, open func() Store)
	}{
		{"ResourceCreateGet", testResourceCreateGet},
		{"ResourceCreateDuplicate", testResourceCreateDuplicate},
		{"ResourceNotFound", testResourceNotFound},
		{"ResourceUpdate", testResourceUpdate},
		{"ResourceDelete", testResourceDelete},
		{"ListResources", testListResources},
		{"ListResourcesAfterDeletes", testListResourcesAfterDeletes},
		{"OperationCreateGetList", testOperationCreateGetList},
		{"OperationLease", testOperationLease},
		{"OperationClaimOrder", testOperationClaimOrder},
		{"OperationSaveNotFound", testOperationSaveNotFound},
		{"ReleaseLeases", testReleaseLeases},
		{"DeleteEndedOperations", testDeleteEndedOperations},
		{"ClaimConcurrent", testClaimConcurrent},
		{"WriteConcurrent", testWriteConcurrent},
		{"OpenConcurrent", testOpenConcurrent},
		{"Tokens", testTokens},
		{"DeleteIfVersion", testDeleteIfVersion},
		{"Owners", testOwners},
		{"TxCommit", testTxCommit},
		{"TxRollback", testTxRollback},
		{"TxConcurrent", testTxConcurrent},
		{"TxClaimsRace", testTxClaimsRace},
		{"TxLockCount", testTxLockCount},
		{"DatabaseClockLeases", testDatabaseClockLeases},
		{"Principals", testPrincipals},
		{"RoleAssignments", testRoleAssignments},
		{"Authenticate", testAuthenticate},
		{"ActivityEvents", testActivityEvents},
		{"SharedSecrets", testSharedSecrets},
		{"DeleteSharedSecret", testDeleteSharedSecret},
		{"Replicas", testReplicas},
		{"ClusterLeases", testClusterLeases},
		{"ClusterLeaseRace", testClusterLeaseRace},
		{"SeizeClusterLease", testSeizeClusterLease},
		{"ListBlobs", testListBlobs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newDatabase(t))
		})
	}
}

const (
	subID  = "/subscriptions/00000000-0000-0000-0000-00000000000A"
	rgType = "Microsoft.Resources/resourceGroups"
	wsType = "Microsoft.MachineLearningServices/workspaces"
)

// resource returns a resource with id under parent, its fields filled in as the services do.
func resource(parent, typ, name string) *Resource {
	id := parent + "/" + name
	switch typ {
	case rgType:
		id = parent + "/resourceGroups/" + name
	case wsType:
		id = parent + "/providers/" + wsType + "/" + name
	}
	return &Resource{
		ID:             id,
		ParentID:       parent,
		Type:           typ,
		Name:           name,
		SubscriptionID: "00000000-0000-0000-0000-00000000000A",
		ResourceGroup:  name,
		Location:       "westeurope",
		Body:           []byte(`{"name":"` + name + `"}`),
	}
}

func mustCreate(t *testing.T, s Store, r *Resource) *Resource {
	t.Helper()
	if err := s.CreateResource(context.Background(), r); err != nil {
		t.Fatalf("CreateResource %s: %v", r.ID, err)
	}
	return r
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func checkResource(t *testing.T, got, want *Resource) {
	t.Helper()
	if got.ID != want.ID || got.ParentID != want.ParentID || got.Type != want.Type || got.Name != want.Name ||
		got.SubscriptionID != want.SubscriptionID || got.ResourceGroup != want.ResourceGroup ||
		got.Location != want.Location || !bytes.Equal(got.Body, want.Body) || got.Version != want.Version ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Fatalf("got resource\n%+v\nwant\n%+v", got, want)
	}
	if got.CreatedAt.Location() != time.UTC || got.UpdatedAt.Location() != time.UTC {
		t.Fatalf("times not in UTC: %v %v", got.CreatedAt, got.UpdatedAt)
	}
}

func testResourceCreateGet(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	before := time.Now().Add(-time.Second)
	r := mustCreate(t, s, resource(subID, rgType, "MyGroup"))
	if r.Version != 1 {
		t.Fatalf("Version after create = %d, want 1", r.Version)
	}
	if r.CreatedAt.Before(before) || r.CreatedAt.After(time.Now().Add(time.Second)) || !r.UpdatedAt.Equal(r.CreatedAt) {
		t.Fatalf("timestamps after create: created %v updated %v", r.CreatedAt, r.UpdatedAt)
	}
	for _, id := range []string{r.ID, idKey(r.ID), "/SUBSCRIPTIONS/00000000-0000-0000-0000-00000000000a/RESOURCEGROUPS/mygroup"} {
		got, err := s.GetResource(ctx, id)
		if err != nil {
			t.Fatalf("GetResource %s: %v", id, err)
		}
		// The id keeps the case it was created with, whatever case it is asked with.
		checkResource(t, got, r)
	}

	// A nil body stays empty.
	empty := resource(subID, rgType, "empty")
	empty.Body = nil
	mustCreate(t, s, empty)
	got, err := s.GetResource(ctx, empty.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Body) != 0 {
		t.Fatalf("Body = %q, want empty", got.Body)
	}
}

func testResourceCreateDuplicate(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	r := mustCreate(t, s, resource(subID, rgType, "dup"))
	for _, id := range []string{r.ID, "/subscriptions/00000000-0000-0000-0000-00000000000a/resourcegroups/DUP"} {
		again := resource(subID, rgType, "other")
		again.ID = id
		wantErr(t, "CreateResource "+id, s.CreateResource(ctx, again), ErrConflict)
	}
	got, err := s.GetResource(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkResource(t, got, r)
}

func testResourceNotFound(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	mustCreate(t, s, resource(subID, rgType, "present"))
	_, err := s.GetResource(ctx, subID+"/resourceGroups/absent")
	wantErr(t, "GetResource", err, ErrNotFound)
	wantErr(t, "DeleteResource", s.DeleteResource(ctx, subID+"/resourceGroups/absent", 0), ErrNotFound)
	missing := resource(subID, rgType, "absent")
	missing.Version = 1
	wantErr(t, "UpdateResource", s.UpdateResource(ctx, missing), ErrNotFound)
	// A prefix of an existing id is not that id.
	_, err = s.GetResource(ctx, subID+"/resourceGroups/pres")
	wantErr(t, "GetResource prefix", err, ErrNotFound)
}

func testResourceUpdate(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	r := mustCreate(t, s, resource(subID, rgType, "Upd"))
	created := r.CreatedAt

	// Update through an id in another case; only Body and Location change.
	u := *r
	u.ID = idKey(r.ID)
	u.Body = []byte(`{"v":2}`)
	u.Location = "eastus"
	u.Type = "Other/type"
	u.Name = "other"
	time.Sleep(2 * time.Millisecond)
	if err := s.UpdateResource(ctx, &u); err != nil {
		t.Fatalf("UpdateResource: %v", err)
	}
	if u.Version != 2 || !u.UpdatedAt.After(created) {
		t.Fatalf("after update Version=%d UpdatedAt=%v, want 2 and after %v", u.Version, u.UpdatedAt, created)
	}
	want := *r
	want.Body, want.Location, want.Version, want.UpdatedAt = u.Body, u.Location, 2, u.UpdatedAt
	got, err := s.GetResource(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkResource(t, got, &want)

	// The old version lost the race.
	stale := *r
	stale.Body = []byte(`{"v":"stale"}`)
	wantErr(t, "UpdateResource stale", s.UpdateResource(ctx, &stale), ErrConflict)
	if stale.Version != 1 {
		t.Fatalf("failed update changed Version to %d", stale.Version)
	}
	got, err = s.GetResource(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkResource(t, got, &want)

	// Updating with the returned version works again.
	if err := s.UpdateResource(ctx, &u); err != nil || u.Version != 3 {
		t.Fatalf("second UpdateResource: version %d, err %v", u.Version, err)
	}
}

func testResourceDelete(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	rg := mustCreate(t, s, resource(subID, rgType, "Del"))
	ws := mustCreate(t, s, resource(rg.ID, wsType, "ws"))
	if err := s.DeleteResource(ctx, idKey(rg.ID), 0); err != nil {
		t.Fatalf("DeleteResource: %v", err)
	}
	_, err := s.GetResource(ctx, rg.ID)
	wantErr(t, "GetResource after delete", err, ErrNotFound)
	wantErr(t, "DeleteResource again", s.DeleteResource(ctx, rg.ID, 0), ErrNotFound)
	// Children stay.
	if _, err := s.GetResource(ctx, ws.ID); err != nil {
		t.Fatalf("child after parent delete: %v", err)
	}
	// The id is free again.
	mustCreate(t, s, resource(subID, rgType, "DEL"))
}

// testListResourcesAfterDeletes pages by After, as a list's $skiptoken does: rows of the
// first page deleted before the second is read do not shift it, and a row added before it
// does not repeat one.
func testListResourcesAfterDeletes(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	var ids []string
	for i := range 8 {
		ids = append(ids, mustCreate(t, s, resource(subID, rgType, fmt.Sprintf("rg%d", i))).ID)
	}
	page := func(after string) []string {
		t.Helper()
		rows, err := s.ListResources(ctx, ListOptions{ParentID: subID, After: after, Limit: 4})
		if err != nil {
			t.Fatalf("ListResources after %q: %v", after, err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, r.ID)
		}
		return got
	}
	first := page("")
	if fmt.Sprint(first) != fmt.Sprint(ids[:4]) {
		t.Fatalf("first page = %q, want %q", first, ids[:4])
	}
	for _, id := range ids[1:3] {
		if err := s.DeleteResource(ctx, id, 0); err != nil {
			t.Fatal(err)
		}
	}
	mustCreate(t, s, resource(subID, rgType, "rg00"))
	if got := page(first[len(first)-1]); fmt.Sprint(got) != fmt.Sprint(ids[4:]) {
		t.Fatalf("second page after deletes = %q, want %q", got, ids[4:])
	}
}

func testListResources(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	sub := &Resource{ID: subID, Type: "Microsoft.Resources/subscriptions", Name: "00000000-0000-0000-0000-00000000000A"}
	mustCreate(t, s, sub)
	// Names chosen so that case, LIKE wildcards and shared prefixes would trip a naive
	// implementation: "rg_1" as a LIKE pattern matches "rgx1", "rg%" matches everything
	// starting with "rg", "rg1" is a prefix of "rg10", and "B" sorts before "a" by bytes.
	for _, name := range []string{"a", "B", "rg1", "rg10", "rg_1", "rgx1", "rg%", "rgzz"} {
		mustCreate(t, s, resource(subID, rgType, name))
	}
	ws := func(rg, name string) string {
		return mustCreate(t, s, resource(subID+"/resourceGroups/"+rg, wsType, name)).ID
	}
	wsRG1 := ws("rg1", "W1")
	wsRG10 := ws("rg10", "w10")
	wsUnder := ws("rg_1", "w_")
	wsX := ws("rgx1", "wx")
	wsPct := ws("rg%", "wp")
	other := mustCreate(t, s, resource("/subscriptions/other", rgType, "rg1")).ID

	rg := func(name string) string { return subID + "/resourceGroups/" + name }
	tests := []struct {
		name string
		opts ListOptions
		want []string
	}{
		{"all", ListOptions{}, []string{subID, rg("a"), rg("B"), rg("rg%"), wsPct, rg("rg1"), wsRG1, rg("rg10"), wsRG10, rg("rg_1"), wsUnder, rg("rgx1"), wsX, rg("rgzz"), other}},
		{"scope subscription", ListOptions{Scope: subID}, []string{rg("a"), rg("B"), rg("rg%"), wsPct, rg("rg1"), wsRG1, rg("rg10"), wsRG10, rg("rg_1"), wsUnder, rg("rgx1"), wsX, rg("rgzz")}},
		{"scope other case", ListOptions{Scope: "/SUBSCRIPTIONS/00000000-0000-0000-0000-00000000000a/resourcegroups/RG1"}, []string{wsRG1}},
		{"scope underscore", ListOptions{Scope: rg("rg_1")}, []string{wsUnder}},
		{"scope percent", ListOptions{Scope: rg("rg%")}, []string{wsPct}},
		{"scope leaf", ListOptions{Scope: wsRG1}, nil},
		{"scope missing", ListOptions{Scope: rg("nope")}, nil},
		{"parent", ListOptions{ParentID: idKey(subID)}, []string{rg("a"), rg("B"), rg("rg%"), rg("rg1"), rg("rg10"), rg("rg_1"), rg("rgx1"), rg("rgzz")}},
		{"parent underscore", ListOptions{ParentID: rg("RG_1")}, []string{wsUnder}},
		{"type", ListOptions{Type: "microsoft.machinelearningservices/WORKSPACES"}, []string{wsPct, wsRG1, wsRG10, wsUnder, wsX}},
		{"type and scope", ListOptions{Type: wsType, Scope: rg("rg1")}, []string{wsRG1}},
		{"parent and type", ListOptions{ParentID: subID, Type: wsType}, nil},
		{"types", ListOptions{Scope: subID, Types: []string{"MICROSOFT.MachineLearningServices/workspaces", "no/such"}}, []string{wsPct, wsRG1, wsRG10, wsUnder, wsX}},
		{"types two", ListOptions{Scope: rg("rg1"), Types: []string{wsType, rgType}}, []string{wsRG1}},
		{"types and type", ListOptions{Types: []string{wsType, rgType}, Type: rgType, Limit: 2}, []string{rg("a"), rg("B")}},
		{"types empty", ListOptions{Types: []string{}}, nil},
		{"types with offset", ListOptions{Types: []string{wsType}, Offset: 3, Limit: 1}, []string{wsUnder}},
		{"name", ListOptions{Name: "RG1"}, []string{rg("rg1"), other}},
		{"name and type", ListOptions{Name: "w1", Type: wsType}, []string{wsRG1}},
		{"name with a wildcard", ListOptions{Name: "rg_1"}, []string{rg("rg_1")}},
		{"name missing", ListOptions{Name: "nope"}, nil},
		{"limit", ListOptions{Scope: subID, Limit: 3}, []string{rg("a"), rg("B"), rg("rg%")}},
		{"offset", ListOptions{Scope: subID, Offset: 10}, []string{rg("rgx1"), wsX, rg("rgzz")}},
		{"offset and limit", ListOptions{ParentID: subID, Offset: 2, Limit: 2}, []string{rg("rg%"), rg("rg1")}},
		{"offset past end", ListOptions{ParentID: subID, Offset: 100}, nil},
		{"after", ListOptions{ParentID: subID, After: rg("rg1")}, []string{rg("rg10"), rg("rg_1"), rg("rgx1"), rg("rgzz")}},
		{"after other case", ListOptions{ParentID: subID, After: "/SUBSCRIPTIONS/00000000-0000-0000-0000-00000000000a/resourcegroups/RG1"}, []string{rg("rg10"), rg("rg_1"), rg("rgx1"), rg("rgzz")}},
		{"after a missing id", ListOptions{ParentID: subID, After: rg("rg0")}, []string{rg("rg1"), rg("rg10"), rg("rg_1"), rg("rgx1"), rg("rgzz")}},
		{"after a parent", ListOptions{Scope: subID, After: rg("rg1")}, []string{wsRG1, rg("rg10"), wsRG10, rg("rg_1"), wsUnder, rg("rgx1"), wsX, rg("rgzz")}},
		{"after, offset and limit", ListOptions{ParentID: subID, After: rg("rg%"), Offset: 1, Limit: 2}, []string{rg("rg10"), rg("rg_1")}},
		{"after the last", ListOptions{ParentID: subID, After: rg("rgzz")}, nil},
		{"after and within", ListOptions{Within: []string{rg("rg1"), rg("rgx1")}, After: wsRG1}, []string{rg("rgx1"), wsX}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListResources(ctx, tt.opts)
			if err != nil {
				t.Fatalf("ListResources: %v", err)
			}
			var gotIDs []string
			for _, r := range got {
				gotIDs = append(gotIDs, r.ID)
			}
			if fmt.Sprint(gotIDs) != fmt.Sprint(tt.want) {
				t.Fatalf("ListResources(%+v)\n got %q\nwant %q", tt.opts, gotIDs, tt.want)
			}
		})
	}

	// Listed resources are complete.
	got, err := s.ListResources(ctx, ListOptions{Scope: rg("rg1")})
	if err != nil || len(got) != 1 {
		t.Fatalf("ListResources: %v, %d rows", err, len(got))
	}
	want, err := s.GetResource(ctx, wsRG1)
	if err != nil {
		t.Fatal(err)
	}
	checkResource(t, got[0], want)
}

// ms is a fixed clock for operation tests, on a millisecond as the store keeps times.
var ms = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func operation(id, resourceID string, started time.Time) *Operation {
	return &Operation{
		ID:             id,
		Kind:           "resourcegroups.delete",
		ResourceID:     resourceID,
		SubscriptionID: "00000000-0000-0000-0000-00000000000A",
		Status:         StatusInProgress,
		Input:          []byte(`{"force":true}`),
		StartedAt:      started,
	}
}

func mustCreateOp(t *testing.T, s Store, op *Operation) *Operation {
	t.Helper()
	if err := s.CreateOperation(context.Background(), op); err != nil {
		t.Fatalf("CreateOperation %s: %v", op.ID, err)
	}
	return op
}

func checkOperation(t *testing.T, got, want *Operation) {
	t.Helper()
	if got.ID != want.ID || got.Kind != want.Kind || got.ResourceID != want.ResourceID ||
		got.SubscriptionID != want.SubscriptionID || got.Status != want.Status ||
		!bytes.Equal(got.Input, want.Input) || !bytes.Equal(got.Progress, want.Progress) ||
		!bytes.Equal(got.Error, want.Error) || got.Attempts != want.Attempts || got.LeaseOwner != want.LeaseOwner ||
		!got.LeaseExpiresAt.Equal(want.LeaseExpiresAt) || !got.StartedAt.Equal(want.StartedAt) ||
		!got.EndedAt.Equal(want.EndedAt) {
		t.Fatalf("got operation\n%+v\nwant\n%+v", got, want)
	}
	for _, tm := range []time.Time{got.LeaseExpiresAt, got.StartedAt, got.EndedAt} {
		if !tm.IsZero() && tm.Location() != time.UTC {
			t.Fatalf("time %v not in UTC", tm)
		}
	}
}

func mustGetOp(t *testing.T, s Store, id string) *Operation {
	t.Helper()
	op, err := s.GetOperation(context.Background(), id)
	if err != nil {
		t.Fatalf("GetOperation %s: %v", id, err)
	}
	return op
}

func testOperationCreateGetList(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	rg := subID + "/resourceGroups/Ops"
	op1 := mustCreateOp(t, s, operation("0A1B2C3D-0000-0000-0000-000000000001", rg, ms.Add(2*time.Second)))
	op2 := mustCreateOp(t, s, operation("0a1b2c3d-0000-0000-0000-000000000002", rg, ms))
	op3 := mustCreateOp(t, s, operation("0a1b2c3d-0000-0000-0000-000000000003", subID+"/resourceGroups/other", ms.Add(time.Second)))
	op4 := operation("0a1b2c3d-0000-0000-0000-000000000004", rg, ms.Add(3*time.Second))
	op4.Status = StatusFailed
	op4.Error = []byte(`{"code":"Boom","message":"boom"}`)
	op4.EndedAt = ms.Add(4 * time.Second)
	mustCreateOp(t, s, op4)

	checkOperation(t, mustGetOp(t, s, op1.ID), op1)
	checkOperation(t, mustGetOp(t, s, "0a1b2c3d-0000-0000-0000-000000000001"), op1)
	checkOperation(t, mustGetOp(t, s, op4.ID), op4)

	_, err := s.GetOperation(ctx, "0a1b2c3d-0000-0000-0000-00000000000f")
	wantErr(t, "GetOperation missing", err, ErrNotFound)
	wantErr(t, "CreateOperation duplicate", s.CreateOperation(ctx, operation(op2.ID, rg, ms)), ErrConflict)
	wantErr(t, "CreateOperation duplicate other case", s.CreateOperation(ctx, operation("0A1B2C3D-0000-0000-0000-000000000002", rg, ms)), ErrConflict)

	// Defaults: no status means InProgress, no start time means now.
	before := time.Now().Add(-time.Second)
	op5 := &Operation{ID: "op5", Kind: "k", ResourceID: rg}
	mustCreateOp(t, s, op5)
	if op5.Status != StatusInProgress || op5.StartedAt.Before(before) {
		t.Fatalf("defaults: status %q started %v", op5.Status, op5.StartedAt)
	}
	checkOperation(t, mustGetOp(t, s, "op5"), op5)

	tests := []struct {
		name string
		f    OperationFilter
		want []*Operation
	}{
		{"all", OperationFilter{}, []*Operation{op2, op3, op1, op4, op5}},
		{"resource", OperationFilter{ResourceID: idKey(rg)}, []*Operation{op2, op1, op4, op5}},
		{"status", OperationFilter{Status: StatusFailed}, []*Operation{op4}},
		{"resource and status", OperationFilter{ResourceID: rg, Status: StatusInProgress}, []*Operation{op2, op1, op5}},
		{"none", OperationFilter{ResourceID: subID}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListOperations(ctx, tt.f)
			if err != nil {
				t.Fatalf("ListOperations: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ListOperations(%+v) returned %d operations, want %d", tt.f, len(got), len(tt.want))
			}
			for i := range got {
				checkOperation(t, got[i], tt.want[i])
			}
		})
	}
}

func testOperationLease(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	const ttl = 30 * time.Second
	op := mustCreateOp(t, s, operation("lease-op", subID, ms))

	// A claims it.
	claimed, err := s.ClaimOperation(ctx, "worker-a", ms, ttl)
	if err != nil {
		t.Fatalf("ClaimOperation: %v", err)
	}
	want := *op
	want.Attempts, want.LeaseOwner, want.LeaseExpiresAt = 1, "worker-a", ms.Add(ttl)
	checkOperation(t, claimed, &want)
	checkOperation(t, mustGetOp(t, s, op.ID), &want)

	// Held: B finds nothing, cannot renew or save.
	_, err = s.ClaimOperation(ctx, "worker-b", ms.Add(ttl-time.Millisecond), ttl)
	wantErr(t, "ClaimOperation while leased", err, ErrNotFound)
	wantErr(t, "RenewLease by other", s.RenewLease(ctx, op.ID, "worker-b", ms.Add(time.Hour)), ErrConflict)
	wantErr(t, "RenewLease by nobody", s.RenewLease(ctx, op.ID, "", ms.Add(time.Hour)), ErrConflict)
	wantErr(t, "RenewLease missing", s.RenewLease(ctx, "missing", "worker-a", ms.Add(time.Hour)), ErrNotFound)
	wantErr(t, "SaveOperation by other", s.SaveOperation(ctx, &want, "worker-b"), ErrConflict)

	// A renews and checkpoints.
	if err := s.RenewLease(ctx, strings.ToUpper(op.ID), "worker-a", ms.Add(2*ttl)); err != nil {
		t.Fatalf("RenewLease: %v", err)
	}
	want.LeaseExpiresAt = ms.Add(2 * ttl)
	want.Progress = []byte(`{"step":1}`)
	if err := s.SaveOperation(ctx, &want, "worker-a"); err != nil {
		t.Fatalf("SaveOperation: %v", err)
	}
	checkOperation(t, mustGetOp(t, s, op.ID), &want)
	_, err = s.ClaimOperation(ctx, "worker-b", ms.Add(ttl), ttl)
	wantErr(t, "ClaimOperation after renew", err, ErrNotFound)

	// The lease lapses; B takes over and A has lost it.
	later := ms.Add(2 * ttl)
	claimed, err = s.ClaimOperation(ctx, "worker-b", later, ttl)
	if err != nil {
		t.Fatalf("ClaimOperation after expiry: %v", err)
	}
	want.Attempts, want.LeaseOwner, want.LeaseExpiresAt = 2, "worker-b", later.Add(ttl)
	checkOperation(t, claimed, &want)
	wantErr(t, "RenewLease by previous owner", s.RenewLease(ctx, op.ID, "worker-a", later.Add(time.Hour)), ErrConflict)
	stale := want
	stale.Progress = []byte(`{"step":"stale"}`)
	wantErr(t, "SaveOperation by previous owner", s.SaveOperation(ctx, &stale, "worker-a"), ErrConflict)

	// B finishes: the lease is freed and the operation is never claimed again.
	done := want
	done.Status = StatusSucceeded
	done.Progress = []byte(`{"step":2}`)
	if err := s.SaveOperation(ctx, &done, "worker-b"); err != nil {
		t.Fatalf("SaveOperation terminal: %v", err)
	}
	if done.EndedAt.IsZero() || done.LeaseOwner != "" || !done.LeaseExpiresAt.IsZero() {
		t.Fatalf("after terminal save: EndedAt %v LeaseOwner %q LeaseExpiresAt %v", done.EndedAt, done.LeaseOwner, done.LeaseExpiresAt)
	}
	checkOperation(t, mustGetOp(t, s, op.ID), &done)
	_, err = s.ClaimOperation(ctx, "worker-c", later.Add(time.Hour), ttl)
	wantErr(t, "ClaimOperation after terminal", err, ErrNotFound)
	wantErr(t, "RenewLease after terminal", s.RenewLease(ctx, op.ID, "worker-b", later.Add(time.Hour)), ErrConflict)
	wantErr(t, "SaveOperation after terminal", s.SaveOperation(ctx, &done, "worker-b"), ErrConflict)

	// A caller-set EndedAt is kept.
	failed := mustCreateOp(t, s, operation("failed-op", subID, ms))
	if _, err := s.ClaimOperation(ctx, "worker-a", ms, ttl); err != nil {
		t.Fatal(err)
	}
	failed.Status, failed.Error, failed.EndedAt, failed.Attempts = StatusFailed, []byte(`{"code":"X"}`), ms.Add(time.Minute), 1
	if err := s.SaveOperation(ctx, failed, "worker-a"); err != nil {
		t.Fatal(err)
	}
	checkOperation(t, mustGetOp(t, s, failed.ID), failed)
}

func testOperationClaimOrder(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	done := operation("done", subID, ms.Add(-time.Hour))
	done.Status = StatusSucceeded
	mustCreateOp(t, s, done)
	canceled := operation("canceled", subID, ms.Add(-time.Hour))
	canceled.Status = StatusCanceled
	mustCreateOp(t, s, canceled)
	// Same start time: creation order decides.
	mustCreateOp(t, s, operation("third", subID, ms.Add(time.Second)))
	mustCreateOp(t, s, operation("fourth", subID, ms.Add(time.Second)))
	mustCreateOp(t, s, operation("second", subID, ms))
	mustCreateOp(t, s, operation("first", subID, ms.Add(-time.Second)))

	for _, want := range []string{"first", "second", "third", "fourth"} {
		op, err := s.ClaimOperation(ctx, "w", ms, time.Minute)
		if err != nil {
			t.Fatalf("ClaimOperation: %v (want %s)", err, want)
		}
		if op.ID != want {
			t.Fatalf("claimed %s, want %s", op.ID, want)
		}
	}
	_, err := s.ClaimOperation(ctx, "w", ms, time.Minute)
	wantErr(t, "ClaimOperation when all leased", err, ErrNotFound)
	_, err = s.ClaimOperation(ctx, "", ms, time.Minute)
	if err == nil {
		t.Fatal("ClaimOperation with empty owner succeeded")
	}
}

func testOperationSaveNotFound(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	err := s.SaveOperation(ctx, operation("missing", subID, ms), "w")
	wantErr(t, "SaveOperation missing", err, ErrNotFound)
	// An unclaimed operation has no lease to save under.
	op := mustCreateOp(t, s, operation("free", subID, ms))
	wantErr(t, "SaveOperation unclaimed", s.SaveOperation(ctx, op, "w"), ErrConflict)
	wantErr(t, "SaveOperation unclaimed, no owner", s.SaveOperation(ctx, op, ""), ErrConflict)
}

func testReleaseLeases(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	for _, id := range []string{"r1", "r2", "r3"} {
		mustCreateOp(t, s, operation(id, subID, ms))
	}
	for range 2 {
		if _, err := s.ClaimOperation(ctx, "dead-worker", ms, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.ReleaseLeases(ctx)
	if err != nil || n != 2 {
		t.Fatalf("ReleaseLeases = %d, %v; want 2", n, err)
	}
	op := mustGetOp(t, s, "r1")
	if op.LeaseOwner != "" || !op.LeaseExpiresAt.IsZero() || op.Attempts != 1 {
		t.Fatalf("after release: %+v", op)
	}
	for range 3 {
		if _, err := s.ClaimOperation(ctx, "new-worker", ms, time.Hour); err != nil {
			t.Fatalf("ClaimOperation after release: %v", err)
		}
	}
	if n, err := s.ReleaseLeases(ctx); err != nil || n != 3 {
		t.Fatalf("second ReleaseLeases = %d, %v; want 3", n, err)
	}
	if n, err := s.ReleaseLeases(ctx); err != nil || n != 0 {
		t.Fatalf("third ReleaseLeases = %d, %v; want 0", n, err)
	}
}

// testClaimConcurrent has workers on two connection pools (two "processes") claim from the
// same operations at once: each operation must be claimed exactly once.
func testClaimConcurrent(t *testing.T, open func() Store) {
	const ops, workers = 20, 8
	stores := []Store{open(), open()}
	ctx := context.Background()
	for i := range ops {
		mustCreateOp(t, stores[0], operation(fmt.Sprintf("op-%02d", i), subID, ms.Add(time.Duration(i%3)*time.Millisecond)))
	}
	var mu sync.Mutex
	claimed := map[string]string{}
	testutil.Race(t, workers, func(w int) error {
		owner := fmt.Sprintf("worker-%d", w)
		s := stores[w%len(stores)]
		for {
			op, err := s.ClaimOperation(ctx, owner, ms, time.Hour)
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			mu.Lock()
			prev, twice := claimed[op.ID]
			claimed[op.ID] = owner
			mu.Unlock()
			if twice {
				return fmt.Errorf("operation %s claimed by %s and %s", op.ID, prev, owner)
			}
			if op.LeaseOwner != owner || op.Attempts != 1 {
				return fmt.Errorf("claimed %s: owner %q attempts %d", op.ID, op.LeaseOwner, op.Attempts)
			}
		}
	})
	if len(claimed) != ops {
		t.Fatalf("claimed %d operations, want %d", len(claimed), ops)
	}
	for id, owner := range claimed {
		if got := mustGetOp(t, stores[1], id); got.LeaseOwner != owner || got.Attempts != 1 {
			t.Errorf("%s: stored owner %q attempts %d, claimed by %s", id, got.LeaseOwner, got.Attempts, owner)
		}
	}
}

// testWriteConcurrent has many writers on two connection pools at once; none may fail
// (on SQLite, with SQLITE_BUSY).
func testWriteConcurrent(t *testing.T, open func() Store) {
	const writers, each = 8, 15
	stores := []Store{open(), open()}
	ctx := context.Background()
	shared := mustCreate(t, stores[0], resource(subID, rgType, "shared"))
	testutil.Race(t, writers, func(w int) error {
		s := stores[w%len(stores)]
		for i := range each {
			r := resource(subID, rgType, fmt.Sprintf("w%d-%d", w, i))
			if err := s.CreateResource(ctx, r); err != nil {
				return err
			}
			r.Body = []byte(`{"updated":true}`)
			if err := s.UpdateResource(ctx, r); err != nil {
				return err
			}
			// Everyone races on one row: losing is ErrConflict, nothing else.
			cur, err := s.GetResource(ctx, shared.ID)
			if err != nil {
				return err
			}
			if err := s.UpdateResource(ctx, cur); err != nil && !errors.Is(err, ErrConflict) {
				return err
			}
		}
		return nil
	})
	got, err := stores[1].ListResources(ctx, ListOptions{ParentID: subID})
	if err != nil || len(got) != writers*each+1 {
		t.Fatalf("ListResources: %d resources, %v; want %d", len(got), err, writers*each+1)
	}
}

// testOpenConcurrent opens the same empty database from several pools at once: migrations
// must run once and every Open succeed.
func testOpenConcurrent(t *testing.T, open func() Store) {
	const n = 4
	stores := make([]Store, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			stores[i] = open()
		})
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	if ss, ok := stores[0].(*sqlStore); ok {
		migs, err := loadMigrations(ss.d)
		if err != nil {
			t.Fatal(err)
		}
		if got := schemaMigrations(t, ss); len(got) != len(migs) {
			t.Fatalf("schema_migrations has %d rows, want %d", len(got), len(migs))
		}
	}
	r := mustCreate(t, stores[0], resource(subID, rgType, "seen"))
	if _, err := stores[n-1].GetResource(context.Background(), r.ID); err != nil {
		t.Fatalf("GetResource from another pool: %v", err)
	}
}

func testTokens(t *testing.T, open func() Store) {
	s, ctx := open(), context.Background()
	tok := &Token{Hash: randomHex(t, 32), Name: "admin", Role: "Owner", CreatedAt: ms}
	if err := s.CreateToken(ctx, tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	expiring := &Token{Hash: randomHex(t, 32), Name: "ci", Role: "Reader", CreatedAt: ms, ExpiresAt: ms.Add(24 * time.Hour)}
	if err := s.CreateToken(ctx, expiring); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	for _, want := range []*Token{tok, expiring} {
		got, err := s.GetToken(ctx, want.Hash)
		if err != nil {
			t.Fatalf("GetToken: %v", err)
		}
		if got.Hash != want.Hash || got.Name != want.Name || got.Role != want.Role ||
			!got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) ||
			got.CreatedAt.Location() != time.UTC {
			t.Fatalf("GetToken = %+v, want %+v", got, want)
		}
	}
	dup := *tok
	dup.Name = "again"
	wantErr(t, "CreateToken duplicate", s.CreateToken(ctx, &dup), ErrConflict)
	_, err := s.GetToken(ctx, randomHex(t, 32))
	wantErr(t, "GetToken missing", err, ErrNotFound)
}
