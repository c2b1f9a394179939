package postgres

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/offsite/offsite"
)

// TestFindingJSONAsEncodingJSON: properties and artifacts read from jsonb as scanFinding reads
// them equal what encoding/json decodes from the same text, on the common shape and on
// everything left to encoding/json (escapes, other keys, other cases, floats, nulls), and
// fail where it fails.
func TestFindingJSONAsEncodingJSON(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	artifacts := []string{
		`[]`,
		`[{"name": "after.png", "key": "sha256/ab.png", "sha256": "ab", "size": 2048, "media_type": "image/png"}]`,
		`[{"name":"a","key":"k1","sha256":"s","size":0,"media_type":"m"},{"name":"b","key":"k2","sha256":"t","size":-5,"media_type":"n"},{}]`,
		`[{"name": "报告.pdf", "key": "sha256/cd.pdf", "size": 9223372036854775807}]`,
		`[{"name": "esc \"q\" \\ \n \u00e9", "key": "k"}]`,
		`[{"Name": "upper", "KEY": "k"}]`,
		`[{"name": "x", "extra": {"a": [1, 2]}}]`,
		`[{"name": "x", "size": 2048.5}]`,
		`[{"name": "x", "size": 1e3}]`,
		`[{"name": null, "size": null}]`,
		`[{"name": "x", "name": "y"}]`,
		`[1]`,
		`{"not": "an array"}`,
		`[{"size": "12"}]`,
		`null`,
	}
	properties := []string{
		`{}`, `{"a": 1, "b": [true, null, "x"], "c": {"d": 2.5}}`, `null`, `{"esc": "\u2028<&>"}`, `[]`, `"s"`,
	}
	check := func(kind, text string, fast func([]byte) (any, error), slow func([]byte) (any, error)) {
		t.Helper()
		var b []byte
		if err := db.Pool.QueryRow(ctx, "SELECT $1::jsonb", text).Scan(&b); err != nil {
			t.Fatalf("%s as jsonb: %v", text, err)
		}
		got, gerr := fast(b)
		want, werr := slow(b)
		if (gerr == nil) != (werr == nil) {
			t.Errorf("%s %s: error %v, encoding/json's %v", kind, b, gerr, werr)
			return
		}
		if diff := cmp.Diff(want, got); werr == nil && diff != "" {
			t.Errorf("%s %s (-encoding/json +fast):\n%s", kind, b, diff)
		}
	}
	for _, text := range artifacts {
		check("artifacts", text, func(b []byte) (any, error) { return decodeArtifacts(b) },
			func(b []byte) (any, error) { var as []offsite.Artifact; err := json.Unmarshal(b, &as); return as, err })
	}
	for _, text := range properties {
		check("properties", text, func(b []byte) (any, error) { return decodeProperties(b) },
			func(b []byte) (any, error) { var m map[string]any; err := json.Unmarshal(b, &m); return m, err })
	}
	// SQL NULL is no value at all.
	if as, err := decodeArtifacts(nil); as != nil || err != nil {
		t.Errorf("artifacts of NULL: %v, %v", as, err)
	}
	if m, err := decodeProperties(nil); m != nil || err != nil {
		t.Errorf("properties of NULL: %v, %v", m, err)
	}
	// The common shape does not go through encoding/json.
	for _, text := range artifacts[:4] {
		if _, ok := parseArtifacts([]byte(text)); !ok {
			t.Errorf("%s was left to encoding/json", text)
		}
	}
}
