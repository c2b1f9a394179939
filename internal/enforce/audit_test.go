package enforce

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"
)

func mustKeys(t *testing.T, ids ...string) *AuditKeys {
	t.Helper()
	var parts []string
	for _, id := range ids {
		k, err := NewAuditKey(id)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, k)
	}
	ks, err := ParseAuditKeys(strings.Join(parts, ","))
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// sealedChain returns n entries sealed under key, after the legacy (unkeyed) entries given.
func sealedChain(n int, key AuditKey, legacy ...AuditEntry) []AuditEntry {
	chain := append([]AuditEntry(nil), legacy...)
	for i := 0; i < n; i++ {
		var prev *AuditEntry
		if len(chain) > 0 {
			prev = &chain[len(chain)-1]
		}
		d, _ := CompactDetail(map[string]any{"i": i, "note": "line\nbreak"})
		e := AuditEntry{At: t0.Add(time.Duration(i) * time.Second), Actor: "u", Role: "admin", Action: "x", Subject: "s", Detail: d}
		e.Seal(prev, key)
		chain = append(chain, e)
	}
	return chain
}

func TestAuditChain(t *testing.T) {
	keys := mustKeys(t, "k1")
	chain := sealedChain(5, keys.Current)
	if b := VerifyChain(chain, keys, 0, nil); b != nil {
		t.Fatalf("intact chain broken: %+v", b)
	}
	head, err := NewAuditHead(keys, &chain[3], 0)
	if err != nil {
		t.Fatal(err)
	}
	if b := VerifyChain(chain, keys, 0, head); b != nil {
		t.Fatalf("intact chain against its head: %+v", b)
	}
	for _, tc := range []struct {
		name   string
		f      func(c []AuditEntry) []AuditEntry
		seq    int64
		reason string
	}{
		{"changed detail", func(c []AuditEntry) []AuditEntry { c[2].Detail = `{"i":99}`; return c }, 3, "was changed"},
		{"changed and rehashed with SHA-256", func(c []AuditEntry) []AuditEntry { c[1].Actor = "mallory"; c[1].Hash = c[1].ComputeHash(); return c }, 2, "without the key"},
		{"changed, rehashed unkeyed", func(c []AuditEntry) []AuditEntry {
			c[1].Actor, c[1].KeyID = "mallory", ""
			c[1].Hash = c[1].ComputeHash()
			return c
		}, 2, "no key id"},
		{"deleted", func(c []AuditEntry) []AuditEntry { return append(c[:2], c[3:]...) }, 4, "missing or reordered"},
		{"swapped", func(c []AuditEntry) []AuditEntry { c[0], c[1] = c[1], c[0]; return c }, 2, "missing or reordered"},
		{"last entries deleted", func(c []AuditEntry) []AuditEntry { return c[:2] }, 3, "entries 3 to 4 were deleted"},
		{"sealed with another key", func(c []AuditEntry) []AuditEntry {
			other := mustKeys(t, "k1")
			return sealedChain(5, other.Current)
		}, 1, "without the key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := append([]AuditEntry(nil), chain...)
			b := VerifyChain(tc.f(c), keys, 0, head)
			if b == nil || b.Seq != tc.seq || !strings.Contains(b.Reason, tc.reason) {
				t.Errorf("break = %+v, want seq %d with %q", b, tc.seq, tc.reason)
			}
		})
	}
}

func TestAuditKeyRotationAndLegacy(t *testing.T) {
	// Two unkeyed entries of before the migration, then entries under k1, then under k2.
	var legacy []AuditEntry
	for i := 1; i <= 2; i++ {
		e := AuditEntry{Seq: int64(i), At: t0, Actor: "old", Action: "x", Detail: "{}", PrevHash: GenesisHash}
		if i > 1 {
			e.PrevHash = legacy[i-2].Hash
		}
		e.Hash = e.ComputeHash()
		legacy = append(legacy, e)
	}
	k1 := mustKeys(t, "k1")
	chain := sealedChain(2, k1.Current, legacy...)
	k2, err := NewAuditKey("k2")
	if err != nil {
		t.Fatal(err)
	}
	// The rotated configuration: k2 current, k1 kept for what it sealed.
	rotated, err := ParseAuditKeys(k2 + "\n# older\nk1:" + hex.EncodeToString(k1.Current.Secret))
	if err != nil {
		t.Fatal(err)
	}
	if rotated.Current.ID != "k2" {
		t.Fatalf("current key %q", rotated.Current.ID)
	}
	chain = sealedChain(2, rotated.Current, chain...)
	if b := VerifyChain(chain, rotated, 2, nil); b != nil {
		t.Fatalf("rotated chain: %+v", b)
	}
	if b := VerifyChain(chain, k1, 2, nil); b == nil || b.Seq != 5 || !strings.Contains(b.Reason, `unknown audit key "k2"`) {
		t.Errorf("without k2: %+v", b)
	}
	if b := VerifyChain(chain, rotated, 3, nil); b == nil || b.Seq != 3 || !strings.Contains(b.Reason, "anchor was moved") {
		t.Errorf("anchor moved up: %+v", b)
	}
	head, err := NewAuditHead(rotated, &chain[5], 2)
	if err != nil {
		t.Fatal(err)
	}
	if b := VerifyChain(chain, rotated, 5, head); b == nil || b.Seq != 3 || !strings.Contains(b.Reason, "anchor was moved") {
		t.Errorf("anchor moved, head kept: %+v", b)
	}
	head.Hash = chain[4].Hash
	if b := VerifyChain(chain, rotated, 2, head); b == nil || !strings.Contains(b.Reason, "bad signature") {
		t.Errorf("forged head: %+v", b)
	}
	if _, err := NewAuditHead(rotated, &AuditEntry{Seq: 9, KeyID: "k2", Hash: strings.Repeat("0", 64)}, 2); err == nil {
		t.Error("a head vouched for an entry that does not verify")
	}
}

func TestParseAuditKeys(t *testing.T) {
	good := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		in, err string
	}{
		{"", "no audit key"},
		{"k1", "is not id:hex"},
		{"k 1:" + good, "is not id:hex"},
		{"k1:abcd", "at least 32 bytes"},
		{"k1:zz" + good, "at least 32 bytes"},
		{"k1:" + good + ",k1:" + good, "given twice"},
	} {
		if _, err := ParseAuditKeys(tc.in); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseAuditKeys(%q) = %v, want %q", tc.in, err, tc.err)
		}
	}
	ks, err := ParseAuditKeys(" k1:" + good + " , k0:" + good + "\n")
	if err != nil || ks.Current.ID != "k1" {
		t.Fatalf("%+v %v", ks, err)
	}
	if _, ok := ks.Key("k0"); !ok {
		t.Error("older key k0 not kept")
	}
}
