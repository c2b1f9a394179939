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

type memStore map[string][]byte

func (m memStore) GetEvidence(_ context.Context, key string) ([]byte, error) {
	b, ok := m[key]
	if !ok {
		return nil, offsite.NotFound("object %s", key)
	}
	return b, nil
}

func art(store memStore, owner, content string) Artifact {
	h := sha256.Sum256([]byte(content))
	sum := hex.EncodeToString(h[:])
	key := "sha256/" + sum[:2] + "/" + sum + ".bin"
	store[key] = []byte(content)
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

	store[b[0].Key] = []byte("tampered")
	delete(store, a[700].Key)
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
