package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/offsite/offsite/cmd/internal/cli"
	"github.com/offsite/offsite/internal/hj212"
)

// decoded is what `receiver decode` prints for one frame.
type decoded struct {
	Valid      bool                         `json:"valid"`
	Reason     string                       `json:"reason,omitempty"`
	SHA256     string                       `json:"sha256"`
	Version    string                       `json:"version,omitempty"`
	QN         string                       `json:"qn,omitempty"`
	MN         string                       `json:"mn"`
	ST         string                       `json:"st"`
	CN         string                       `json:"cn"`
	Flag       *int                         `json:"flag,omitempty"`
	PNUM       int                          `json:"pnum,omitempty"`
	PNO        int                          `json:"pno,omitempty"`
	DataTime   string                       `json:"datatime,omitempty"`
	Params     map[string]string            `json:"params,omitempty"`
	Values     map[string]map[string]string `json:"values"`
	Deviations []string                     `json:"deviations"`
}

func decodeFrame(f *hj212.Frame) decoded {
	d := decoded{Valid: f.Valid, Reason: f.Reason, SHA256: hj212.Hash(f.Raw), Version: f.Version, QN: f.QN,
		MN: f.MN, ST: f.ST, CN: f.CN, PNUM: f.PNUM, PNO: f.PNO, DataTime: f.DataTime,
		Values: map[string]map[string]string{}, Deviations: f.Deviations}
	if f.Flag >= 0 {
		flag := f.Flag
		d.Flag = &flag
	}
	if d.Deviations == nil {
		d.Deviations = []string{}
	}
	if f.Valid {
		d.Values = f.ValueMap()
		d.Params = f.Params
	}
	return d
}

// runDecode is `receiver decode [FILE]`: the server's own reader and parser over a file of
// captured traffic (or stdin), one JSON object per frame on stdout. It exits 0 when the input
// was read to its end, whatever the frames' validity.
func runDecode(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	maxFrame := fs.Int("max-frame", hj212.DefaultMaxFrame, "largest frame in bytes")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: receiver decode [-max-frame N] [FILE]\n\nReads HJ 212 frames from FILE (or stdin) and prints one JSON object per frame.")
		fs.PrintDefaults()
	}
	if err := cli.Parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return cli.Usagef("decode: one FILE at most, got %d", fs.NArg())
	}
	in, name := stdin, "stdin"
	if fs.NArg() == 1 {
		name = fs.Arg(0)
		f, err := os.Open(name)
		if err != nil {
			return fmt.Errorf("decode: %w", err)
		}
		defer f.Close()
		in = f
	}
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	r := hj212.NewReader(bufio.NewReaderSize(in, 64<<10), *maxFrame)
	var frames, valid int
	for {
		raw, err := r.Next()
		if raw != nil {
			f := hj212.Parse(raw)
			if errors.Is(err, hj212.ErrTruncated) {
				f.Valid, f.Reason = false, "truncated: the input ended inside the frame"
			}
			frames++
			if f.Valid {
				valid++
			}
			if err := enc.Encode(decodeFrame(f)); err != nil {
				return err
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, hj212.ErrTruncated) {
				out.Flush()
				return fmt.Errorf("decode: read %s: %w", name, err)
			}
			break
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stderr, "decode: %s: %d frames, %d valid, %d refused; %d bytes outside frames\n", name, frames, valid, frames-valid, r.Skipped)
	return nil
}
