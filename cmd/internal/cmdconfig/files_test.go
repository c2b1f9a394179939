package cmdconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseFiles(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens.json")
	if err := os.WriteFile(tokens, []byte("[]"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Parse(lookup(map[string]string{EnvTokensFile: tokens}))
	if err != nil || c.TokensFile != tokens || c.ProvinceConfig != "" {
		t.Fatalf("Parse = %+v, %v", c, err)
	}
	_, err = Parse(lookup(map[string]string{EnvTokensFile: filepath.Join(dir, "missing.json"), EnvProvinceConfig: dir}))
	if err == nil || !strings.Contains(err.Error(), EnvTokensFile) || !strings.Contains(err.Error(), EnvProvinceConfig+`: "`+dir+`" is not a regular file`) {
		t.Errorf("Parse with bad files = %v", err)
	}
}
