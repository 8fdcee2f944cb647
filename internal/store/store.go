package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Every implementation translates its driver's errors into these at the
// boundary, so nothing above the store inspects SQLite or PostgreSQL errors.
var (
	// ErrNotFound means the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means a row with the same key already exists, or an optimistic-concurrency
	// check (Version, lease owner) failed.
	ErrConflict = errors.New("conflict")
	// ErrRetry means the database gave up a transaction because of another one (a
	// serialization failure, a deadlock, a busy database). InTx retries these itself; it
	// returns ErrRetry only when its attempts are used up.
	ErrRetry = errors.New("transaction aborted by a concurrent one; retry")
	// ErrUnavailable means the database cannot take writes: its disk is full, it is
	// read-only, or it failed an I/O. Retrying does not help until an operator fixes the
	// cause; the error is an *UnavailableError, which says where and what to do.
	ErrUnavailable = errors.New("store cannot write")
)

// Resource is one ARM resource as stored: a subscription, a resource group, a workspace, a
// compute, a managed cluster... Its identity is its ARM id compared case-insensitively; the id
// keeps the case the user first gave.
type Resource struct {
	// ID is the ARM resource id with the case the user gave, e.g.
	// /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}.
	ID string
	// ParentID is the id of the enclosing resource ("" for a subscription).
	ParentID string
	// Type is the ARM type, e.g. "Microsoft.Resources/resourceGroups".
	Type string
	// Name is the last segment of ID.
	Name string
	// SubscriptionID is the subscription GUID the resource lives in.
	SubscriptionID string
	// ResourceGroup is the resource group name ("" for subscriptions).
	ResourceGroup string
	// Location is the Azure region name ("" when the type has none).
	Location string
	// Body is the resource's JSON document, owned by the service that stores it.
	Body []byte
	// OwnerID, when set, is the id of the resource this one exists for: a compute's name
	// claim, TLS secret and attachment claim, a cluster the compute created. The sweeper
	// deletes rows whose owner is gone (ListOrphans). Set at creation, never changed.
	OwnerID string
	// Version counts updates, starting at 1 on create; UpdateResource compares it.
	Version int64
	// CreatedAt and UpdatedAt are set by the store (UTC).
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ListOptions selects resources for ListResources. Zero fields do not filter.
type ListOptions struct {
	// Scope keeps only resources whose id lies strictly under this id
	// (case-insensitive prefix Scope+"/").
	Scope string
	// ParentID keeps only direct children of this id (case-insensitive).
	ParentID string
	// Type keeps only resources of this ARM type (case-insensitive).
	Type string
	// Name keeps only resources whose Name (the last segment of the id) is this one
	// (case-insensitive).
	Name string
	// Types, when not nil, keeps only resources of one of these ARM types
	// (case-insensitive); an empty non-nil Types keeps nothing. It is how a generic list
	// leaves out mlfleet's internal rows (claims, secrets).
	Types []string
	// Within, when not nil, keeps only resources whose id is one of these ids or lies under
	// one of them (case-insensitive); an empty non-nil Within keeps nothing. It is how a
	// list shows a caller only what it may read.
	Within []string
	// After, when not "", keeps only resources whose lowercased id sorts strictly after
	// After's, in the list's bytewise order: the continuation of a page that ended with
	// After, which rows deleted or added before it do not shift. After need not exist.
	After string
	// Offset skips that many rows of the ordered result (counted after After).
	Offset int
	// Limit caps the number of rows returned; 0 means no cap.
	Limit int
}

// Operation status values, as ARM spells them.
const (
	StatusInProgress = "InProgress"
	StatusSucceeded  = "Succeeded"
	StatusFailed     = "Failed"
	StatusCanceled   = "Canceled"
)

// Operation is one durable long-running operation.
type Operation struct {
	// ID is a GUID, the last segment of the operation-status URL.
	ID string
	// Kind names the handler that runs it, e.g. "resourcegroups.delete".
	Kind string
	// ResourceID is the id of the resource the operation acts on.
	ResourceID string
	// SubscriptionID is the subscription of ResourceID.
	SubscriptionID string
	// Status is one of the Status* constants.
	Status string
	// Input is the handler's JSON input, fixed at creation.
	Input []byte
	// Progress is the handler's JSON checkpoint, saved between steps.
	Progress []byte
	// Error is the ARM error JSON ({"code","message",...}) when Status is Failed.
	Error []byte
	// Attempts counts how many times a worker claimed the operation.
	Attempts int
	// LeaseOwner is the worker holding the operation ("" when free).
	LeaseOwner string
	// LeaseExpiresAt is when the lease lapses and another worker may claim it.
	LeaseExpiresAt time.Time
	// StartedAt is set at creation; EndedAt when the status becomes terminal (zero before).
	StartedAt time.Time
	EndedAt   time.Time
}

// OperationFilter selects operations for ListOperations. Zero fields do not filter.
type OperationFilter struct {
	// ResourceID keeps operations on this resource (case-insensitive).
	ResourceID string
	// Status keeps operations in this status.
	Status string
}

// Token is an API bearer token. Only its hash is stored.
type Token struct {
	// Hash is the hex SHA-256 of the secret token.
	Hash string
	// Name describes the token, e.g. "admin".
	Name string
	// Role is Owner, Contributor or Reader.
	Role string
	// PrincipalID is the principal the token acts as ("" for tokens minted before
	// principals existed, which act as the bootstrap admin).
	PrincipalID string
	// CreatedAt is set by the caller; ExpiresAt zero means it never expires.
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Principal types, as Microsoft Graph and ARM's principalType spell them.
const (
	PrincipalUser             = "User"
	PrincipalServicePrincipal = "ServicePrincipal"
)

// Principal is a user or a service principal: who a token acts as.
type Principal struct {
	// ID is the object id, a GUID (lowercase).
	ID string
	// Type is PrincipalUser or PrincipalServicePrincipal.
	Type string
	// Login is what the principal signs in with: a service principal's appId, a user's
	// user principal name. Unique among principals, compared case-insensitively.
	Login string
	// Name is the display name.
	Name string
	// SecretHash is the salted hash of the password or client secret ("" = cannot sign in).
	SecretHash string
	// CreatedBy is the id of the principal that created this one.
	CreatedBy string
	// CreatedAt and UpdatedAt are set by the store (UTC).
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RoleAssignment grants a principal a role at a scope and everything under it.
type RoleAssignment struct {
	// Name is the assignment's GUID, the last segment of its ARM id.
	Name string
	// Scope is "/" (everything), a subscription, a resource group or a resource id.
	Scope string
	// PrincipalID is the object id of the principal.
	PrincipalID string
	// Role is Owner, Contributor or Reader.
	Role string
	// CreatedBy is the id of the principal that created it.
	CreatedBy string
	// CreatedAt is set by the store (UTC).
	CreatedAt time.Time
}

// RoleAssignmentFilter selects role assignments. Zero fields do not filter.
type RoleAssignmentFilter struct {
	// PrincipalID keeps the assignments of this principal.
	PrincipalID string
	// Around keeps assignments at this scope, above it (they are inherited by it) or below it.
	Around string
	// AtOrBelow keeps assignments at this scope or below it.
	AtOrBelow string
}

// ActivityEvent is one entry of the activity log: a write request that reached the API
// (after authentication), or the end of a long-running operation one started. It holds who
// did what where, the outcome and the correlation id; never a request or response body,
// which may carry secrets.
type ActivityEvent struct {
	// Seq orders events in the order they were recorded; set by CreateActivityEvent.
	Seq int64
	// ID is the event's unique id (ARM's eventDataId, a GUID).
	ID string
	// Time is when the event happened (UTC, kept to the millisecond).
	Time time.Time
	// SubscriptionID is the subscription the request named ("" for requests outside any).
	SubscriptionID string
	// ResourceGroup is the resource group of ResourceID ("" when none).
	ResourceGroup string
	// ResourceID is the scope the request acted on: the resource id, without an action.
	ResourceID string
	// ResourceProvider is the namespace, e.g. Microsoft.ContainerService.
	ResourceProvider string
	// OperationName is ARM's, e.g. Microsoft.ContainerService/managedClusters/write.
	OperationName string
	// OperationID is shared by the events of one operation (its request and its end).
	OperationID string
	// Status is Accepted, Succeeded or Failed.
	Status string
	// HTTPStatus is the answer's status code (0 for the end of an operation).
	HTTPStatus int
	// ErrorCode is the ARM error code of a failure ("" otherwise).
	ErrorCode string
	// Caller identifies the principal.
	Caller string
	// CorrelationID ties the events of one client call together.
	CorrelationID string
	// ClientRequestID is the client's x-ms-client-request-id ("" when not sent).
	ClientRequestID string
	// Method is the HTTP method of the request.
	Method string
	// ClientIP is the address the request came from.
	ClientIP string
}

// ActivityFilter selects activity events for ListActivityEvents. Zero fields do not
// filter, except SubscriptionID, which is required.
type ActivityFilter struct {
	// SubscriptionID keeps events of this subscription (case-insensitive).
	SubscriptionID string
	// From and To keep events with From <= Time <= To.
	From, To time.Time
	// ResourceGroup, ResourceID and ResourceProvider keep events on that group, resource
	// (exactly that id) or provider namespace, case-insensitively.
	ResourceGroup, ResourceID, ResourceProvider string
	// CorrelationID, Caller and Status keep events with that value, case-insensitively.
	CorrelationID, Caller, Status string
	// BeforeSeq keeps events with Seq < BeforeSeq: the cursor of the next page.
	BeforeSeq int64
	// Limit caps the number of events returned; 0 means no cap.
	Limit int
}

// Store is mlfleet's persistent state. Implementations: SQLite (embedded default) and
// PostgreSQL (shared by several replicas). All methods are safe for concurrent use.
type Store interface {
	// CreateResource inserts r, setting Version to 1 and the timestamps.
	// Returns ErrConflict when a resource with the same id (any case) exists.
	CreateResource(ctx context.Context, r *Resource) error
	// GetResource returns the resource with this id (any case), or ErrNotFound.
	GetResource(ctx context.Context, id string) (*Resource, error)
	// UpdateResource replaces Body and Location of the resource with r.ID if its stored
	// Version equals r.Version; it then increments r.Version and sets r.UpdatedAt.
	// Returns ErrNotFound when it is missing, ErrConflict when the version differs.
	UpdateResource(ctx context.Context, r *Resource) error
	// DeleteResource removes the resource with this id (any case). With ifVersion > 0 it
	// removes it only while its Version is ifVersion, so a row read, checked and then deleted
	// is not one another writer changed in between. Returns ErrNotFound when it is missing,
	// ErrConflict when the version differs. Children are not removed.
	DeleteResource(ctx context.Context, id string, ifVersion int64) error
	// ListResources returns the resources selected by opts, ordered by lowercased id.
	ListResources(ctx context.Context, opts ListOptions) ([]*Resource, error)
	// ListOrphans returns up to limit resources whose OwnerID names a resource that does not
	// exist, ordered by lowercased id.
	ListOrphans(ctx context.Context, limit int) ([]*Resource, error)

	// InTx runs fn in one transaction: every write fn makes through tx commits together, or
	// none does when fn returns an error (which InTx returns). fn must use tx, not the Store
	// InTx was called on, for all its reads and writes (on SQLite the other would wait for
	// the transaction's connection forever). fn may run more than once: when the database
	// aborts the transaction because of a concurrent one (ErrRetry), InTx runs it again, a
	// bounded number of times; fn must therefore have no effect outside tx. InTx on a
	// transaction's Store runs fn in that same transaction.
	InTx(ctx context.Context, fn func(tx Store) error) error
	// Lock takes the lock named key for the rest of the transaction it is called in (a
	// Store InTx handed to fn): a concurrent transaction's Lock of the same key waits until
	// this one commits or rolls back, and what it reads afterwards includes this one's
	// writes. It serialises a count and the write the count allows (a quota checked and a
	// cluster inserted), which the version checks of single rows cannot. It writes nothing;
	// taking a key again in the same transaction returns at once. Outside a transaction it
	// returns an error.
	Lock(ctx context.Context, key string) error

	// CreateOperation inserts op (ErrConflict if the id exists).
	CreateOperation(ctx context.Context, op *Operation) error
	// GetOperation returns the operation with this id, or ErrNotFound.
	GetOperation(ctx context.Context, id string) (*Operation, error)
	// ListOperations returns operations selected by f, oldest first.
	ListOperations(ctx context.Context, f OperationFilter) ([]*Operation, error)
	// ClaimOperation atomically leases the oldest InProgress operation whose lease is free or
	// expired at now to owner until now+ttl, increments its Attempts, and returns it. A zero
	// now means the database's clock, which is what servers use: replicas whose clocks
	// disagree still agree on when a lease lapses. Returns ErrNotFound when there is nothing
	// to claim. Two concurrent callers never get the same operation.
	ClaimOperation(ctx context.Context, owner string, now time.Time, ttl time.Duration) (*Operation, error)
	// ExtendLease extends owner's lease on operation id to the database's clock plus ttl
	// (ttl <= 0 frees the lease at once, keeping the operation InProgress). Returns
	// ErrConflict when owner no longer holds it, ErrNotFound if missing.
	ExtendLease(ctx context.Context, id, owner string, ttl time.Duration) error
	// Unclaim gives back a claim owner made but did not act on (it was shutting down): the
	// lease is freed and the claim's attempt is not counted. ErrConflict when owner does not
	// hold the lease, ErrNotFound if missing.
	Unclaim(ctx context.Context, id, owner string) error
	// RenewLease extends owner's lease on operation id to expiresAt. Returns ErrConflict when
	// owner no longer holds it (lease taken over, or operation terminal), ErrNotFound if missing.
	RenewLease(ctx context.Context, id, owner string, expiresAt time.Time) error
	// SaveOperation writes Status, Progress, Error and EndedAt of op if owner holds its lease;
	// a terminal status also frees the lease. Returns ErrConflict when owner lost the lease.
	SaveOperation(ctx context.Context, op *Operation, owner string) error
	// ReleaseLeases frees every lease (used at start-up by a single-replica server, whose
	// previous process is known dead). Returns how many were freed.
	ReleaseLeases(ctx context.Context) (int, error)

	// CreateToken stores a token (ErrConflict if the hash exists).
	CreateToken(ctx context.Context, t *Token) error
	// GetToken returns the token with this hash, or ErrNotFound.
	GetToken(ctx context.Context, hash string) (*Token, error)

	// Authenticate returns, in one query, the token with this hash, its principal (the
	// principal whose id is fallback when the token names none) and that principal's role
	// assignments ordered by scope. ErrNotFound when the token or its principal is missing.
	Authenticate(ctx context.Context, hash, fallback string) (*Token, *Principal, []*RoleAssignment, error)

	// EnsureSharedSecret stores value under name unless a value is already stored, and
	// returns the stored value (the first writer's, whoever wins a race). Values are opaque
	// to the store: callers wrap them before.
	EnsureSharedSecret(ctx context.Context, name string, value []byte) ([]byte, error)
	// GetSharedSecret returns the value stored under name, or ErrNotFound.
	GetSharedSecret(ctx context.Context, name string) ([]byte, error)
	// DeleteSharedSecret removes the value stored under name (a cluster's identity when the
	// cluster goes). Deleting a missing name is not an error.
	DeleteSharedSecret(ctx context.Context, name string) error

	// HeartbeatReplica writes the replica's row with the database's clock as its
	// heartbeat, creating it on first call.
	HeartbeatReplica(ctx context.Context, r *Replica) error
	// ListReplicas returns every replica row, ordered by id, with Silence set.
	ListReplicas(ctx context.Context) ([]*Replica, error)
	// DeleteReplica removes a replica's row (missing: no error).
	DeleteReplica(ctx context.Context, id string) error
	// DeleteSilentReplicas removes the rows of replicas silent for longer than d.
	DeleteSilentReplicas(ctx context.Context, d time.Duration) (int, error)

	// AcquireClusterLease grants holder the cluster's hosting lease for ttl (database
	// clock) if it is free, expired or already holder's; it returns the lease and whether
	// holder holds it.
	AcquireClusterLease(ctx context.Context, clusterID, holder string, ttl time.Duration) (*ClusterLease, bool, error)
	// RenewClusterLease extends holder's unexpired lease under token; false: lost.
	RenewClusterLease(ctx context.Context, clusterID, holder string, token int64, ttl time.Duration) (bool, error)
	// ReleaseClusterLease ends holder's lease under token at once.
	ReleaseClusterLease(ctx context.Context, clusterID, holder string, token int64) error
	// SeizeClusterLease takes the cluster's lease for holder whoever holds it (to delete
	// the cluster), and returns how long its previous holder may still serve it.
	SeizeClusterLease(ctx context.Context, clusterID, holder string, ttl time.Duration) (time.Duration, error)
	// DeleteClusterLease removes a deleted cluster's lease row.
	DeleteClusterLease(ctx context.Context, clusterID string) error
	// ListClusterLeases returns every cluster lease, ordered by cluster id.
	ListClusterLeases(ctx context.Context) ([]*ClusterLease, error)

	// CreatePrincipal stores p. Returns ErrConflict when its id or login is taken.
	CreatePrincipal(ctx context.Context, p *Principal) error
	// GetPrincipal returns the principal whose id or login is ref (any case), or ErrNotFound.
	GetPrincipal(ctx context.Context, ref string) (*Principal, error)
	// ListPrincipals returns every principal, ordered by login.
	ListPrincipals(ctx context.Context) ([]*Principal, error)
	// SetPrincipalSecret replaces the principal's secret hash and deletes every token
	// minted for it, in one transaction. ErrNotFound if missing.
	SetPrincipalSecret(ctx context.Context, id, secretHash string) error
	// DeletePrincipal deletes the principal, its tokens and its role assignments, in one
	// transaction. ErrNotFound if missing.
	DeletePrincipal(ctx context.Context, id string) error

	// CreateRoleAssignment stores a. Returns ErrConflict when its name is taken or the
	// principal already holds that role at that scope.
	CreateRoleAssignment(ctx context.Context, a *RoleAssignment) error
	// GetRoleAssignment returns the assignment with this name (any case), or ErrNotFound.
	GetRoleAssignment(ctx context.Context, name string) (*RoleAssignment, error)
	// ListRoleAssignments returns the assignments f selects, ordered by scope then name.
	ListRoleAssignments(ctx context.Context, f RoleAssignmentFilter) ([]*RoleAssignment, error)
	// DeleteRoleAssignment deletes the assignment with this name. ErrNotFound if missing.
	DeleteRoleAssignment(ctx context.Context, name string) error
	// DeleteRoleAssignmentsAtOrBelow deletes every assignment at scope or below it (the
	// scope was deleted) and returns how many it deleted.
	DeleteRoleAssignmentsAtOrBelow(ctx context.Context, scope string) (int, error)
	// CreateActivityEvent records e and sets e.Seq. Returns ErrConflict when an event with
	// e.ID exists (so recording the same event twice leaves one).
	CreateActivityEvent(ctx context.Context, e *ActivityEvent) error
	// ListActivityEvents returns the events f selects, newest (highest Seq) first. It
	// returns an error when f.SubscriptionID is empty.
	ListActivityEvents(ctx context.Context, f ActivityFilter) ([]*ActivityEvent, error)
	// DeleteActivityEventsBefore removes up to limit of the oldest events whose Time is
	// before t and returns how many it removed; repeating it until it returns less than
	// limit removes them all. Idempotent.
	DeleteActivityEventsBefore(ctx context.Context, t time.Time, limit int) (int, error)
	// DeleteEndedOperationsBefore removes up to limit of the operations that reached a
	// terminal status before t, except each existing resource's newest operation and newest
	// Failed one, and returns how many it removed; repeating it until it returns less than
	// limit removes them all. An operation not finished is never removed. Idempotent.
	DeleteEndedOperationsBefore(ctx context.Context, t time.Time, limit int) (int, error)

	// Close releases the connection pool.
	Close() error
}
