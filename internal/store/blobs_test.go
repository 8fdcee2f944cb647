package store

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// testListBlobs: ListBlobs pages through the stored blobs by digest, with their size and
// when they were stored, and no longer lists a deleted one.
func testListBlobs(t *testing.T, open func() Store) {
	s, ctx := open().(BlobStore), context.Background()
	digests := []string{strings.Repeat("c", 64), strings.Repeat("a", 64), strings.Repeat("b", 64)}
	sizes := map[string]int64{}
	for i, d := range digests {
		content := bytes.Repeat([]byte("x"), i+1)
		if err := s.PutBlob(ctx, d, int64(len(content)), bytes.NewReader(content)); err != nil {
			t.Fatal(err)
		}
		sizes[d] = int64(len(content))
	}
	var got []string
	for after := ""; ; {
		page, err := s.ListBlobs(ctx, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range page {
			got = append(got, b.Digest)
			if b.Size != sizes[b.Digest] || b.CreatedAt.IsZero() {
				t.Errorf("blob %s: size %d, created %v", b.Digest[:1], b.Size, b.CreatedAt)
			}
		}
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].Digest
	}
	if want := []string{digests[1], digests[2], digests[0]}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("listed %v, want %v", got, want)
	}
	if err := s.DeleteBlob(ctx, digests[2]); err != nil {
		t.Fatal(err)
	}
	if all, err := s.ListBlobs(ctx, "", 0); err != nil || len(all) != 2 || all[0].Digest != digests[1] || all[1].Digest != digests[0] {
		t.Fatalf("after a delete: %v, %v", all, err)
	}
}
