package msgs_test

import (
	"bytes"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/msgs"
)

// TestCatalogComplete: every code has a Chinese text with Chinese in it, an English text, and
// the same placeholders in both (an argument the one language drops would be lost to its
// readers).
func TestCatalogComplete(t *testing.T) {
	han := regexp.MustCompile(`\p{Han}`)
	for _, c := range msgs.Codes() {
		zh, en, _ := msgs.Texts(c)
		if !han.MatchString(zh) {
			t.Errorf("%s: the Chinese text %q has no Chinese in it", c, zh)
		}
		if en == "" || han.MatchString(en) {
			t.Errorf("%s: the English text %q is empty or not English", c, en)
		}
		if pz, pe := msgs.Placeholders(zh), msgs.Placeholders(en); !slices.Equal(pz, pe) {
			t.Errorf("%s: placeholders %v in Chinese, %v in English", c, pz, pe)
		}
	}
	if len(msgs.Codes()) < 40 {
		t.Errorf("%d codes: the catalog lost some", len(msgs.Codes()))
	}
}

func TestText(t *testing.T) {
	m := msgs.New(msgs.EvalAtLeast, "fact", "employees", "value", "12").With("limit", "20")
	for _, tc := range []struct {
		lang msgs.Lang
		want string
	}{
		{msgs.EN, "employees is 12, must be at least 20"},
		{msgs.ZH, "“employees”为 12，应不低于 20。"},
	} {
		if got := m.Text(tc.lang); got != tc.want {
			t.Errorf("Text(%s) = %q, want %q", tc.lang, got, tc.want)
		}
	}
	if got := msgs.New("no.such.code", "a", "1").Text(msgs.ZH); got != "no.such.code map[a:1]" {
		t.Errorf("unknown code: %q", got)
	}
}

func TestRequestLang(t *testing.T) {
	for _, tc := range []struct {
		url, accept string
		want        msgs.Lang
	}{
		{"/x", "", msgs.EN},
		{"/x", "zh-CN,zh;q=0.9,en;q=0.8", msgs.ZH},
		{"/x", "en-US,en;q=0.9,zh-CN;q=0.8", msgs.EN},
		{"/x", "fr, zh;q=0.5", msgs.ZH},
		{"/x", "de", msgs.EN},
		{"/x?lang=zh", "en", msgs.ZH},
		{"/x?lang=en", "zh-CN", msgs.EN},
		{"/x", "en;q=0.2, zh-TW;q=0.7", msgs.ZH},
	} {
		r := httptest.NewRequest("GET", tc.url, nil)
		if tc.accept != "" {
			r.Header.Set("Accept-Language", tc.accept)
		}
		if got := msgs.RequestLang(r); got != tc.want {
			t.Errorf("%s with Accept-Language %q: %s, want %s", tc.url, tc.accept, got, tc.want)
		}
	}
}

// TestTypeScriptCurrent: web/src/msgcatalog.ts is what `go generate ./internal/msgs` writes
// from the catalog now.
func TestTypeScriptCurrent(t *testing.T) {
	path := filepath.Join("..", "..", "web", "src", "msgcatalog.ts")
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msgs.TypeScript()) {
		t.Errorf("%s is stale: run go generate ./internal/msgs", path)
	}
}

// TestRequiredCode: the root package's code of a missing field is the catalog's.
func TestRequiredCode(t *testing.T) {
	if msgs.Code(offsite.CodeRequired) != msgs.FieldRequired {
		t.Errorf("offsite.CodeRequired %q is not msgs.FieldRequired %q", offsite.CodeRequired, msgs.FieldRequired)
	}
}
