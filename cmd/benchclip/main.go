// Command benchclip drives `make bench-clip` (scripts/bench-clip.sh):
//
//	benchclip parcels -scene FILE -n 1000 -out parcels.geojson [-dir DIR]
//	    random parcels of 1–20 ha inside the scene (WGS84 GeoJSON), and
//	    optionally one file per parcel for per-parcel tools
//	benchclip proxy -listen 127.0.0.1:7071 -target 127.0.0.1:7070
//	    an S3 reverse proxy that counts response bytes; GET /_bench/bytes
//	    reports them, POST /_bench/reset zeroes them
//	benchclip upload -endpoint HOST:PORT -bucket B -key K -file FILE
//	    creates the bucket if needed and uploads the file (unless an object
//	    of the same size is there)
//	benchclip clip -endpoint HOST:PORT -bucket B -key K -parcels FILE [-reader go|gdal]
//	    clips every parcel with internal/raster and prints one JSON line:
//	    wall time, parcels clipped, blocks, bytes, peak RSS
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"

	"github.com/offsite/offsite/internal/raster"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchclip parcels|proxy|clip [flags]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch os.Args[1] {
	case "parcels":
		err = runParcels(ctx, os.Args[2:])
	case "proxy":
		err = runProxy(ctx, os.Args[2:])
	case "clip":
		err = runClip(ctx, os.Args[2:])
	case "upload":
		err = runUpload(ctx, os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchclip:", err)
		os.Exit(1)
	}
}

// runParcels writes n random parcels of 1–20 ha inside the scene.
func runParcels(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("parcels", flag.ExitOnError)
	scene := fs.String("scene", "", "local scene file")
	n := fs.Int("n", 1000, "number of parcels")
	out := fs.String("out", "parcels.geojson", "output GeoJSON")
	seed := fs.Uint64("seed", 1, "random seed")
	dir := fs.String("dir", "", "also write one GeoJSON file per parcel here (<parcel_id>.geojson)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	info, err := raster.Inspect(ctx, raster.Env{AllowLocalFiles: true}, raster.FileSource(*scene))
	if err != nil {
		return err
	}
	b := info.Footprint.Bound()
	// Stay well inside the (slightly curved) footprint.
	padX, padY := (b.Max[0]-b.Min[0])*0.03, (b.Max[1]-b.Min[1])*0.03
	rng := rand.New(rand.NewPCG(*seed, 7))
	fc := geojson.NewFeatureCollection()
	for i := 0; i < *n; i++ {
		lon := b.Min[0] + padX + rng.Float64()*((b.Max[0]-b.Min[0])-2*padX)
		lat := b.Min[1] + padY + rng.Float64()*((b.Max[1]-b.Min[1])-2*padY)
		ha := 1 + rng.Float64()*19
		r := math.Sqrt(ha*10000/math.Pi) * 1.2 // metres; the star is smaller than the circle
		k := 6 + rng.IntN(8)
		ring := make(orb.Ring, 0, k+1)
		for j := 0; j < k; j++ {
			a := 2 * math.Pi * (float64(j) + 0.6*rng.Float64()) / float64(k)
			rr := r * (0.7 + 0.3*rng.Float64())
			ring = append(ring, orb.Point{
				lon + rr*math.Cos(a)/(111320*math.Cos(lat*math.Pi/180)),
				lat + rr*math.Sin(a)/110574,
			})
		}
		ring = append(ring, ring[0])
		f := geojson.NewFeature(orb.Polygon{ring})
		f.Properties["parcel_id"] = fmt.Sprintf("p%04d", i)
		fc.Append(f)
		if *dir != "" {
			one := geojson.NewFeatureCollection().Append(f)
			data, err := one.MarshalJSON()
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(*dir, fmt.Sprintf("p%04d.geojson", i)), data, 0o644); err != nil {
				return err
			}
		}
	}
	data, err := fc.MarshalJSON()
	if err != nil {
		return err
	}
	return os.WriteFile(*out, data, 0o644)
}

// runProxy serves a counting reverse proxy until interrupted.
func runProxy(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("proxy", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:7071", "listen address")
	target := fs.String("target", "127.0.0.1:7070", "S3 endpoint")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var bytes, requests atomic.Int64
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(&url.URL{Scheme: "http", Host: *target})
			r.Out.Host = r.In.Host // keep the signed Host header
		},
		ModifyResponse: func(resp *http.Response) error {
			requests.Add(1)
			resp.Body = &countingBody{ReadCloser: resp.Body, n: &bytes}
			return nil
		},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_bench/bytes", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d %d\n", bytes.Load(), requests.Load())
	})
	mux.HandleFunc("POST /_bench/reset", func(w http.ResponseWriter, r *http.Request) {
		bytes.Store(0)
		requests.Store(0)
	})
	mux.Handle("/", rp)
	srv := &http.Server{Addr: *listen, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		return err
	}
	return nil
}

// countingBody counts the bytes read from a response body.
type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// runClip clips every parcel and prints a JSON summary.
func runClip(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("clip", flag.ExitOnError)
	endpoint := fs.String("endpoint", "127.0.0.1:7070", "S3 endpoint")
	access := fs.String("access-key", "offsite", "S3 access key")
	secret := fs.String("secret-key", "offsite-secret", "S3 secret key")
	bucket := fs.String("bucket", "", "bucket")
	key := fs.String("key", "", "object key")
	parcelsFile := fs.String("parcels", "parcels.geojson", "parcels GeoJSON")
	reader := fs.String("reader", "go", "object reader: go or gdal")
	noQuickLook := fs.Bool("no-quicklook", false, "skip quick-look PNGs")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	data, err := os.ReadFile(*parcelsFile)
	if err != nil {
		return err
	}
	fc, err := geojson.UnmarshalFeatureCollection(data)
	if err != nil {
		return err
	}
	var parcels []raster.Parcel
	for _, f := range fc.Features {
		parcels = append(parcels, raster.Parcel{ID: fmt.Sprint(f.Properties["parcel_id"]), Geometry: f.Geometry})
	}
	env := raster.Env{
		S3:             raster.S3Config{Endpoint: *endpoint, AccessKey: *access, SecretKey: *secret, Region: "us-east-1"},
		AllowedBuckets: []string{*bucket},
	}
	switch *reader {
	case "go":
		env.Reader = raster.ReaderGo
	case "gdal":
		env.Reader = raster.ReaderGDAL
	default:
		return fmt.Errorf("unknown reader %q", *reader)
	}
	opts := raster.ClipOptions{Tags: map[string]string{"capture": *key}, SkipQuickLook: *noQuickLook}
	var cogBytes, pngBytes int64
	start := time.Now()
	st, err := raster.Clip(ctx, env, raster.S3Source(*bucket, *key), parcels, opts, func(o raster.ClipOutput) error {
		cogBytes += int64(len(o.COG))
		pngBytes += int64(len(o.QuickLook))
		return nil
	})
	wall := time.Since(start)
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"wall_s":        round3(wall.Seconds()),
		"parcels":       st.Parcels,
		"clipped":       st.Clipped,
		"missed":        st.Missed,
		"blocks":        st.BlocksRead,
		"block_bytes":   st.BlockBytes,
		"fetched_bytes": st.BytesFetched,
		"decoded_bytes": st.BytesRead,
		"cog_bytes":     cogBytes,
		"png_bytes":     pngBytes,
		"maxrss_kb":     ru.Maxrss,
		"cpu_s":         round3(tv(ru.Utime) + tv(ru.Stime)),
		"reader":        *reader,
		"gomaxprocs":    strconv.Itoa(runtimeProcs()),
	})
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// tv converts a rusage time to seconds.
func tv(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }

// runUpload puts a file into a bucket, creating the bucket when missing.
func runUpload(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("upload", flag.ExitOnError)
	endpoint := fs.String("endpoint", "127.0.0.1:7070", "S3 endpoint")
	access := fs.String("access-key", "offsite", "S3 access key")
	secret := fs.String("secret-key", "offsite-secret", "S3 secret key")
	bucket := fs.String("bucket", "", "bucket")
	key := fs.String("key", "", "object key")
	file := fs.String("file", "", "file to upload")
	if err := fs.Parse(args); err != nil {
		return err
	}
	mc, err := minio.New(*endpoint, &minio.Options{Creds: credentials.NewStaticV4(*access, *secret, ""), Region: "us-east-1"})
	if err != nil {
		return err
	}
	ok, err := mc.BucketExists(ctx, *bucket)
	if err != nil {
		return err
	}
	if !ok {
		if err := mc.MakeBucket(ctx, *bucket, minio.MakeBucketOptions{Region: "us-east-1"}); err != nil {
			return err
		}
	}
	fi, err := os.Stat(*file)
	if err != nil {
		return err
	}
	if info, err := mc.StatObject(ctx, *bucket, *key, minio.StatObjectOptions{}); err == nil && info.Size == fi.Size() {
		return nil // already there
	}
	_, err = mc.FPutObject(ctx, *bucket, *key, *file, minio.PutObjectOptions{ContentType: "image/tiff"})
	return err
}
