// Package apiclient is a small client of Offsite's JSON API, for the demo and the benchmarks.
package apiclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// Client calls the API at Base with a bearer Token.
type Client struct {
	Base  string
	Token string
	HTTP  *http.Client
}

// New returns a client of the API at base.
func New(base, token string) *Client {
	return &Client{Base: strings.TrimRight(base, "/"), Token: token, HTTP: &http.Client{Timeout: 60 * time.Second}}
}

// Do sends body (raw JSON bytes, or a value to marshal; nil for none) and decodes the answer
// into out (when non-nil). An answer of 300 or more is an error quoting the status and body.
func (c *Client) Do(ctx context.Context, method, path string, body, out any) error {
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return err
		}
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(data))
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// Upload is a presigned PUT as the API returns it (POST /api/v1/uploads): the URL and the
// headers signed into it.
type Upload struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
}

// Put uploads data through a presigned PUT, with the headers signed into it.
func (c *Client) Put(ctx context.Context, up Upload, data []byte) error {
	req, err := http.NewRequestWithContext(ctx, "PUT", up.URL, bytes.NewReader(data))
	if err != nil {
		return err
	}
	for k, v := range up.Headers {
		if !strings.EqualFold(k, "Content-Length") { // set from the body
			req.Header.Set(k, v)
		}
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("PUT: %s: %s", resp.Status, bytes.TrimSpace(b))
	}
	return nil
}
