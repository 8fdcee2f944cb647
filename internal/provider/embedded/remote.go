package embedded

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/mlfleet/mlfleet/internal/background"
	"github.com/mlfleet/mlfleet/internal/provider"
)

// Remote carries a provider call to the replica that hosts a cluster (the holder of its
// lease), which runs it with ServeCall. With several replicas, any of them can then run
// any operation step on any cluster: the step's replica need not be the cluster's host.
type Remote interface {
	// Call runs method with in (JSON) on replica and decodes its result into out. An error
	// that wraps ErrUnreachable means the call did not reach the replica (it may be dead).
	Call(ctx context.Context, replica, method string, in, out any) error
}

var (
	// ErrUnreachable wraps the errors of calls that did not reach the hosting replica.
	ErrUnreachable = errors.New("the hosting replica did not answer")
	// ErrHostStopping wraps the answer of a hosting replica that is shutting down: it
	// takes no call, and one it was running was cut short. It hands its clusters over
	// (stops them, frees their leases) as it stops, so the call goes to the next host.
	ErrHostStopping = errors.New("the hosting replica is shutting down")
)

// errHostMoved ends a call whose host stopped holding the cluster's lease meanwhile.
var errHostMoved = errors.New("the cluster's host changed during the call")

// Forward makes calls on clusters another replica hosts go to that replica through r. The
// provider must host by lease (HostBy). Call it before the first Ensure.
func (p *Provider) Forward(r Remote) { p.remote = r }

// Methods of forwarded calls.
const (
	callEnsure = "ensure"
	callStatus = "status"
	callScale  = "scale"
	callRanges = "authorizedIPRanges"
	callLogs   = "podLogs"
	callPlace  = "place"
)

type scaleCall struct {
	ID   string            `json:"id"`
	Pool provider.NodePool `json:"pool"`
}

type rangesCall struct {
	ID     string   `json:"id"`
	Ranges []string `json:"ranges"`
}

type logsCall struct {
	ID, Namespace, Pod, Container string
	TailLines                     int
}

// ServeCall runs a call another replica forwarded here (Remote.Call) on a cluster this
// replica hosts, and returns its result to send back. A cluster not hosted here answers
// provider.ErrNotFound: the caller looks for the host again.
func (p *Provider) ServeCall(ctx context.Context, method string, in json.RawMessage) (any, error) {
	switch method {
	case callEnsure:
		var spec provider.ClusterSpec
		if err := json.Unmarshal(in, &spec); err != nil {
			return nil, err
		}
		if _, err := p.running(spec.ID); err != nil {
			return nil, err // never start a cluster because a peer asked: it may be another's
		}
		return p.Ensure(ctx, spec)
	case callPlace:
		var spec provider.ClusterSpec
		if err := json.Unmarshal(in, &spec); err != nil {
			return nil, err
		}
		// The start outlives the caller's request: a caller that gave up finds the
		// cluster hosted here when it tries again.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		return p.Ensure(placed(ctx), spec)
	case callStatus:
		var id string
		if err := json.Unmarshal(in, &id); err != nil {
			return nil, err
		}
		return p.localOnly(ctx, id, func(ctx context.Context) (any, error) { return p.Status(ctx, id) })
	case callScale:
		var c scaleCall
		if err := json.Unmarshal(in, &c); err != nil {
			return nil, err
		}
		return p.localOnly(ctx, c.ID, func(ctx context.Context) (any, error) { return nil, p.Scale(ctx, c.ID, c.Pool) })
	case callRanges:
		var c rangesCall
		if err := json.Unmarshal(in, &c); err != nil {
			return nil, err
		}
		return p.localOnly(ctx, c.ID, func(ctx context.Context) (any, error) {
			return nil, p.SetAuthorizedIPRanges(ctx, c.ID, c.Ranges)
		})
	case callLogs:
		var c logsCall
		if err := json.Unmarshal(in, &c); err != nil {
			return nil, err
		}
		return p.localOnly(ctx, c.ID, func(ctx context.Context) (any, error) {
			return p.PodLogs(ctx, c.ID, c.Namespace, c.Pod, c.Container, c.TailLines)
		})
	}
	return nil, fmt.Errorf("unknown provider call %q", method)
}

// localOnly runs f when the cluster runs here, and answers ErrNotFound otherwise.
func (p *Provider) localOnly(ctx context.Context, id string, f func(context.Context) (any, error)) (any, error) {
	if _, err := p.running(id); err != nil {
		return nil, err
	}
	return f(ctx)
}

// hostWait bounds how long a call waits for a cluster to have a live host that answers:
// the host's lease lapsing and another replica taking the cluster over take about one
// lease TTL (5 s). The time a host spends running the call (a drain may take minutes) is
// not part of it, and the wait starts again when the host hands the cluster over (it is
// shutting down, or its lease moved): that is progress, not a dead host.
const hostWait = 30 * time.Second

// leaseCheck is how often a call in flight on another replica checks that the replica
// still holds the cluster's lease.
const leaseCheck = time.Second

// retryable tells whether a call's error means "try the cluster's host again": the host
// did not answer, does not run the cluster (any more), or is shutting down.
func retryable(err error) bool {
	return errors.Is(err, ErrUnreachable) || errors.Is(err, provider.ErrNotFound) || errors.Is(err, ErrHostStopping)
}

// handedOver tells whether a call's error means that its host handed the cluster over
// (it is shutting down, or lost the lease while the call ran): the wait for the next
// host starts afresh.
func handedOver(err error) bool {
	return errors.Is(err, ErrHostStopping) || errors.Is(err, errHostMoved)
}

// callHost runs method on holder, the replica holding the cluster's lease, for as long as
// it holds it: when the lease moves to another replica or lapses (the holder died, was
// paused or stopped) the call is cut short with errHostMoved, so that it never waits on a
// replica that no longer hosts the cluster.
func (p *Provider) callHost(ctx context.Context, id, holder, method string, in, out any) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go background.Every(ctx, leaseCheck, func(ctx context.Context) {
		if h, err := p.leases.Holder(ctx, id); err == nil && h != holder {
			cancel(errHostMoved) // ends ctx, and with it the checks
		}
	})
	err := p.remote.Call(ctx, holder, method, in, out)
	if err != nil && errors.Is(context.Cause(ctx), errHostMoved) {
		return fmt.Errorf("replica %s: %w", holder, errHostMoved)
	}
	return err
}

// onHost runs a call on a cluster that does not run here: on its host through the remote,
// waiting (up to hostWait, see there) while the cluster has no live host or its host does
// not answer, as after a kill of the host, until a replica takes it over. Without leases
// or a remote, or when the call reached a host that answered, the error is the call's.
func (p *Provider) onHost(ctx context.Context, id, method string, in, out any, wait bool) error {
	if p.leases == nil || p.remote == nil {
		return provider.ErrNotFound
	}
	giveUp := time.Now().Add(hostWait)
	var last error = provider.ErrNotFound
	for {
		holder, err := p.leases.Holder(ctx, id)
		switch {
		case err != nil:
			last = err
		case holder == "":
			last = fmt.Errorf("%w: no replica hosts it right now", provider.ErrNotFound)
		case holder == p.leases.Self():
			// Hosted here after all: started since the caller looked, or starting.
			if _, err := p.running(id); err == nil {
				return errRunsHere
			}
			last = fmt.Errorf("%w: it is starting here", provider.ErrNotFound)
		default:
			err := p.callHost(ctx, id, holder, method, in, out)
			if err == nil || !retryable(err) {
				return err
			}
			if handedOver(err) {
				giveUp = time.Now().Add(hostWait)
			}
			last = err
		}
		if !wait || time.Now().After(giveUp) {
			return last
		}
		select {
		case <-ctx.Done():
			return last
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// hostOrForward takes the cluster's lease for Ensure (then returns nil, nil: start it
// here), or runs Ensure on the replica that holds it. When that host does not answer
// (killed or paused) or hands the cluster over (shutting down), it waits, up to hostWait,
// for the lease to lapse or be freed and takes the cluster over. A resume
// (provider.ResumeOnly) is never forwarded.
func (p *Provider) hostOrForward(ctx context.Context, spec provider.ClusterSpec) (*provider.Status, error) {
	if p.remote != nil && !provider.IsResumeOnly(ctx) && !isPlaced(ctx) {
		// A new cluster goes to the least loaded live replica.
		pctx, cancel := context.WithTimeout(ctx, hostWait)
		to, err := p.leases.Place(pctx, spec.ID)
		if err == nil && to != "" && to != p.leases.Self() {
			var st provider.Status
			if err = p.remote.Call(pctx, to, callPlace, spec, &st); err == nil {
				cancel()
				return &st, nil
			}
		}
		cancel()
		if err != nil {
			p.log.Warn("place a new cluster on another replica; hosting it here", "cluster", spec.Name, "replica", to, "err", err)
		}
	}
	giveUp := time.Now().Add(hostWait)
	for {
		_, holder, err := p.leases.Acquire(ctx, spec.ID)
		switch {
		case err == nil:
			return nil, nil
		case holder == "":
			return nil, fmt.Errorf("hosting lease of %s: %w", spec.Name, err)
		case p.remote == nil || provider.IsResumeOnly(ctx):
			return nil, fmt.Errorf("%w (replica %s)", provider.ErrHostedElsewhere, holder)
		}
		var st provider.Status
		err = p.callHost(ctx, spec.ID, holder, callEnsure, spec, &st)
		if err == nil {
			return &st, nil
		}
		if !retryable(err) {
			return nil, err
		}
		if handedOver(err) {
			giveUp = time.Now().Add(hostWait)
		}
		if time.Now().After(giveUp) {
			return nil, fmt.Errorf("ensure %s: no replica took the cluster over within %v of its host %s: %w", spec.Name, hostWait, holder, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("ensure %s: its host %s: %w", spec.Name, holder, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// errRunsHere tells a caller of onHost that the cluster now runs here: call again.
var errRunsHere = errors.New("the cluster runs here now")

// placedKey marks the context of an Ensure another replica placed here (callPlace).
type placedKey struct{}

func placed(ctx context.Context) context.Context { return context.WithValue(ctx, placedKey{}, true) }

func isPlaced(ctx context.Context) bool {
	v, _ := ctx.Value(placedKey{}).(bool)
	return v
}
