package compute

import (
	"bytes"
	"encoding/json"
	"sync"
	"testing"

	"github.com/mlfleet/mlfleet/internal/store"
)

func viewRow(version int64, count int) *store.Resource {
	body := []byte(`{"name":"c1","properties":{"computeType":"AKS","properties":{"agentCount":` + string(rune('0'+count)) +
		`,"sslConfiguration":{"status":"Enabled","key":"secret-key"}}}}`)
	return &store.Resource{ID: "/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/ws/computes/C1", Version: version, Body: body}
}

// TestViews: a view is what decode gives, encoded (defaults filled, the write-only key
// blanked, the ETag of the version); it is reused only for the same version and body.
func TestViews(t *testing.T) {
	var v views
	r := viewRow(3, 2)
	got, err := v.of(r)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := decode(r)
	want, _ := json.Marshal(c)
	if !bytes.Equal(got, want) || bytes.Contains(got, []byte("secret-key")) || !bytes.Contains(got, []byte(`"etag":"\"3\""`)) {
		t.Fatalf("view %s\nwant %s", got, want)
	}
	again, _ := v.of(viewRow(3, 2))
	if &again[0] != &got[0] {
		t.Error("an unchanged row was decoded again")
	}
	for _, changed := range []*store.Resource{viewRow(4, 2), viewRow(3, 5)} {
		w, _ := v.of(changed)
		c, _ := decode(changed)
		want, _ := json.Marshal(c)
		if !bytes.Equal(w, want) {
			t.Errorf("view of a changed row (version %d) = %s, want %s", changed.Version, w, want)
		}
	}
}

// TestViewsConcurrent: views of rows that change under concurrent readers are always
// those of the row read (run with -race).
func TestViewsConcurrent(t *testing.T) {
	var v views
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				r := viewRow(int64(i%3), (g+i)%4)
				w, err := v.of(r)
				c, _ := decode(r)
				want, _ := json.Marshal(c)
				if err != nil || !bytes.Equal(w, want) {
					t.Errorf("view %s, want %s (%v)", w, want, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
