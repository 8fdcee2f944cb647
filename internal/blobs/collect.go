package blobs

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/mlfleet/mlfleet/internal/store"
)

// DefaultGrace is how recently stored content must be for the Collector to keep it
// whatever names it, when CollectorConfig.Grace is 0.
const DefaultGrace = 10 * time.Minute

// CollectorConfig tunes a Collector. Zero values mean the defaults.
type CollectorConfig struct {
	// Grace keeps content stored less than Grace ago, named or not: content being uploaded
	// by something that records its row later (an mlfleet older than this one, during a
	// rolling upgrade), or whose row a crash left unrecorded a moment ago. 0 means
	// DefaultGrace.
	Grace time.Duration
	// NamedBy are the types of rows whose bodies name blobs by URI (asset versions):
	// content one names is kept even when no upload row does, since versions created
	// before upload rows existed name content recorded for no workspace, and deployments
	// read it by digest. nil means none.
	NamedBy []string
	// Logger receives a line per removed blob and one per collection that removed some;
	// nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock that ages content; nil means time.Now. A test seam.
	Now func() time.Time
}

// Collected is what one collection removed.
type Collected struct {
	// Blobs counts the blobs removed.
	Blobs int
	// Bytes is their total size.
	Bytes int64
}

// Collector removes content that no workspace's upload row names any more (see the package
// doc). It is safe to run on several replicas at once.
type Collector struct {
	u   *Uploads
	cfg CollectorConfig
	log *slog.Logger
}

// NewCollector returns a Collector of u's content. Content in a Store other than Files and
// Database is never collected.
func NewCollector(u *Uploads, cfg CollectorConfig) *Collector {
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Collector{u: u, cfg: cfg, log: cfg.Logger.With("component", "blob collector")}
}

// Collect removes the content stored before the grace period that no upload row (nor row
// of a NamedBy type) names, and returns what it removed. Each blob is decided and removed
// in one transaction holding its lock, the one uploads take to record a row: a blob
// uploaded again meanwhile is kept, and one removed under an upload is stored again by
// it. Idempotent: what another collection removed first is not counted.
func (c *Collector) Collect(ctx context.Context) (Collected, error) {
	var got Collected
	content := c.u.content
	if content == nil {
		return got, nil
	}
	cutoff := c.cfg.Now().Add(-c.cfg.Grace)
	var old []store.Blob
	err := content.each(ctx, func(b store.Blob) error {
		if b.CreatedAt.Before(cutoff) {
			old = append(old, b)
		}
		return nil
	})
	if err != nil || len(old) == 0 {
		return got, err
	}
	// Deciding from these lists is only a first cut, made without locks: what they name
	// is kept, the rest is checked again under each blob's lock.
	named, err := c.named(ctx, []string{TypeUpload}, func(r *store.Resource, into map[string]bool) {
		into[strings.ToLower(r.Name)] = true
	})
	if err != nil {
		return got, err
	}
	old = unnamed(old, named)
	if len(old) > 0 && len(c.cfg.NamedBy) > 0 {
		// Rows of these types name only blobs uploaded to their workspace, but for those
		// made before upload rows existed: a set that only shrinks, so reading it without
		// the locks keeps all it names.
		if named, err = c.named(ctx, c.cfg.NamedBy, namedInBody); err != nil {
			return got, err
		}
		old = unnamed(old, named)
	}
	for _, b := range old {
		removed, err := c.remove(ctx, b.Digest)
		if err != nil {
			return got, err
		}
		if removed {
			got.Blobs++
			got.Bytes += b.Size
			c.log.Info("removed a blob no upload names", "digest", b.Digest, "size", b.Size)
		}
	}
	return got, nil
}

// Sweep is Collect for the sweeper: it logs what it removed and returns how many blobs.
func (c *Collector) Sweep(ctx context.Context) (int, error) {
	got, err := c.Collect(ctx)
	if got.Blobs > 0 {
		c.log.Info("removed blobs no upload names", "count", got.Blobs, "bytes", got.Bytes)
	}
	return got.Blobs, err
}

// named returns the digests that the rows of types name, as add reads them.
func (c *Collector) named(ctx context.Context, types []string, add func(*store.Resource, map[string]bool)) (map[string]bool, error) {
	rows, err := c.u.store.ListResources(ctx, store.ListOptions{Types: types})
	if err != nil {
		return nil, fmt.Errorf("collect blobs: %w", err)
	}
	out := make(map[string]bool, len(rows))
	for _, r := range rows {
		add(r, out)
	}
	return out, nil
}

// unnamed returns the blobs of list whose digest is not in named, reusing list.
func unnamed(list []store.Blob, named map[string]bool) []store.Blob {
	out := list[:0]
	for _, b := range list {
		if !named[b.Digest] {
			out = append(out, b)
		}
	}
	return out
}

// namedInBody adds to into every digest that r's body names in a blob URI.
func namedInBody(r *store.Resource, into map[string]bool) {
	body := r.Body
	for {
		i := bytes.Index(body, []byte(URIPrefix))
		if i < 0 {
			return
		}
		body = body[i+len(URIPrefix):]
		if len(body) >= 64 && ValidDigest(string(body[:64])) {
			into[string(body[:64])] = true
		}
	}
}

// remove removes the blob if no upload row names it, deciding and removing under its lock,
// and reports whether it removed it.
func (c *Collector) remove(ctx context.Context, digest string) (bool, error) {
	if err := c.u.hit("blobs/collect/decide/before"); err != nil {
		return false, err
	}
	var removed bool
	err := c.u.store.InTx(ctx, func(tx store.Store) error {
		removed = false
		if err := tx.Lock(ctx, lockKey(digest)); err != nil {
			return err
		}
		rows, err := tx.ListResources(ctx, store.ListOptions{Type: TypeUpload, Name: digest, Limit: 1})
		if err != nil || len(rows) > 0 {
			return err
		}
		if err := c.u.hit("blobs/collect/remove/before"); err != nil {
			return err
		}
		if removed, err = c.u.content.remove(ctx, tx, digest); err != nil {
			return err
		}
		return c.u.hit("blobs/collect/remove/after")
	})
	if err != nil {
		return false, fmt.Errorf("collect blob %s: %w", digest, err)
	}
	return removed, nil
}
