package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite"
)

// pages is a Source over a fixed list, with integer cursors.
type pages []Artifact

func (p pages) ListArtifacts(_ context.Context, after string, limit int) ([]Artifact, string, error) {
	i := 0
	if after != "" {
		i, _ = strconv.Atoi(after)
	}
	end := min(i+limit, len(p))
	next := ""
	if end < len(p) {
		next = strconv.Itoa(end)
	}
	return p[i:end], next, nil
}

// memStore holds objects by "bucket/key" ("" is the evidence bucket).
type memStore map[string][]byte

func (m memStore) HashObject(_ context.Context, bucket, key string) (string, error) {
	b, ok := m[bucket+"/"+key]
	if !ok {
		return "", offsite.NotFound("object %s/%s", bucket, key)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

func digest(content string) string {
	h := sha256.Sum256([]byte(content))
	return hex.EncodeToString(h[:])
}

func art(store memStore, owner, content string) Artifact {
	h := sha256.Sum256([]byte(content))
	sum := hex.EncodeToString(h[:])
	key := "sha256/" + sum[:2] + "/" + sum + ".bin"
	store["/"+key] = []byte(content)
	return Artifact{Key: key, SHA256: sum, Owner: owner}
}

func TestRun(t *testing.T) {
	store := memStore{}
	var a, b pages
	for i := range 1203 { // more than two pages of 500
		a = append(a, art(store, fmt.Sprintf("clip %d", i), fmt.Sprintf("clip %d", i)))
	}
	b = append(b, art(store, "finding 1", "f1"), art(store, "finding 2", "f2"), art(store, "finding 3", "f3"))
	rep, err := Run(context.Background(), Join(a, pages{}, b), store)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Checked != 1206 || rep.OK != 1206 || len(rep.Problems) != 0 {
		t.Fatalf("clean run: %+v", rep)
	}

	store["/"+b[0].Key] = []byte("tampered")
	delete(store, "/"+a[700].Key)
	rekeyed := b[2]
	rekeyed.SHA256 = a[0].SHA256 // a row pointing at another artifact's digest
	b[2] = rekeyed
	rep, err = Run(context.Background(), Join(a, b), store)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.Sum256([]byte("tampered"))
	want := []Problem{
		{Artifact: a[700], Issue: "missing"},
		{Artifact: b[0], Actual: hex.EncodeToString(h[:]), Issue: "mismatch"},
		{Artifact: rekeyed, Issue: "key"},
	}
	if diff := cmp.Diff(want, rep.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	if rep.Checked != 1206 || rep.OK != 1203 {
		t.Errorf("checked %d ok %d", rep.Checked, rep.OK)
	}
	if _, _, err := Join(a).ListArtifacts(context.Background(), "x", 10); err == nil {
		t.Error("bad cursor accepted")
	}
}

// captureList is a CaptureLister over a fixed list.
type captureList []IngestedCapture

func (l captureList) ListIngestedCaptures(_ context.Context, afterID int64, limit int) ([]IngestedCapture, error) {
	var out []IngestedCapture
	for _, c := range l {
		if c.ID > afterID && len(out) < limit {
			out = append(out, c)
		}
	}
	return out, nil
}

// TestCaptures: each ingested capture's source is checked against its checksum and its COG
// against the digest its key records; a COG named after its source (before COG digests were
// recorded) is "unrecorded"; a replaced source and a replaced COG are mismatches.
func TestCaptures(t *testing.T) {
	store := memStore{}
	put := func(key, content string) string { store["caps/"+key] = []byte(content); return digest(content) }
	srcSum := put("s2/a.tif", "scene a")
	cogKey := "cog/" + digest("cog of a") + ".tif"
	put(cogKey, "cog of a")
	cogSum := digest("cog of a")
	tiledSum := put("s2/b.tif", "tiled scene b")
	legacySum := put("s2/c.tif", "scene c")
	legacyCOG := "cog/" + legacySum + ".tif"
	put(legacyCOG, "old cog of c")
	list := captureList{
		{ID: 1, Bucket: "caps", Key: "s2/a.tif", Checksum: srcSum, COGKey: cogKey},
		{ID: 2, Bucket: "caps", Key: "s2/b.tif", Checksum: tiledSum, COGKey: "s2/b.tif"},
		{ID: 3, Bucket: "caps", Key: "s2/c.tif", Checksum: legacySum, COGKey: legacyCOG},
	}
	rep, err := Run(context.Background(), Captures(list), store)
	if err != nil {
		t.Fatal(err)
	}
	want := []Problem{{Artifact: Artifact{Bucket: "caps", Key: legacyCOG, Owner: "capture 3 cog"}, Issue: "unrecorded"}}
	if diff := cmp.Diff(want, rep.Problems); diff != "" || rep.Checked != 5 || rep.OK != 4 {
		t.Fatalf("clean run: checked %d ok %d, problems (-want +got):\n%s", rep.Checked, rep.OK, diff)
	}

	store["caps/s2/a.tif"] = []byte("another scene")
	store["caps/"+cogKey] = []byte("another cog")
	rep, err = Run(context.Background(), Captures(list[:1]), store)
	if err != nil {
		t.Fatal(err)
	}
	want = []Problem{
		{Artifact: Artifact{Bucket: "caps", Key: "s2/a.tif", SHA256: srcSum, Owner: "capture 1 source"}, Actual: digest("another scene"), Issue: "mismatch"},
		{Artifact: Artifact{Bucket: "caps", Key: cogKey, SHA256: cogSum, Owner: "capture 1 cog"}, Actual: digest("another cog"), Issue: "mismatch"},
	}
	if diff := cmp.Diff(want, rep.Problems); diff != "" {
		t.Errorf("replaced source and COG (-want +got):\n%s", diff)
	}
}
