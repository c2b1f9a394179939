package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/cmd/internal/cmdconfig"
	"github.com/offsite/offsite/internal/geo"
	"github.com/offsite/offsite/internal/process"
	"github.com/offsite/offsite/internal/raster"
)

const clipUsage = `usage: worker clip --scene FILE|s3://bucket/key --parcels FILE --out DIR [--all-touched] [--gcj02]
         [--parcels-crs CRS] [--repair] [--id-property NAME] [--overwrite] [--quiet|--progress]

Clips a scene to every parcel it intersects, with the same code the workers run, and writes
DIR/<parcel_id>.tif (a COG) and DIR/<parcel_id>.png (a quick-look) for each, and DIR/clip.json
listing them. Parcels come from GeoJSON, Shapefile, GeoPackage or KML; --parcels-crs names
the CRS of a file that names none (e.g. EPSG:4547 for CGCS2000 3-degree zone 114E). An s3://
scene must be in the configured captures bucket (OFFSITE_S3_* variables).

A DIR that holds anything is refused, so that no file of an earlier run is taken for this
one's; --overwrite first removes the files an earlier clip listed in DIR/clip.json (and
nothing else). Progress goes to stderr when it is a terminal. Exit status 3 when no parcel
overlaps the scene: nothing was clipped.
`

// clipManifestName lists what one clip run wrote in its output directory.
const clipManifestName = "clip.json"

// clipManifest is DIR/clip.json.
type clipManifest struct {
	Scene   string   `json:"scene"`
	Parcels string   `json:"parcels"`
	Files   []string `json:"files"`
	Version string   `json:"version"`
}

// runClip is `worker clip`.
func runClip(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("clip", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, clipUsage); fs.PrintDefaults() }
	scene := fs.String("scene", "", "scene: a local GeoTIFF or s3://bucket/key")
	parcelsPath := fs.String("parcels", "", "parcels file (.geojson, .json, .shp, .gpkg, .kml)")
	out := fs.String("out", "", "output directory (created if missing)")
	allTouched := fs.Bool("all-touched", false, "take every pixel a parcel touches, not only those whose centre is inside")
	gcj02 := fs.Bool("gcj02", false, "parcel coordinates are GCJ-02 (Chinese web maps): convert them to WGS84")
	repair := fs.Bool("repair", false, "repair invalid parcel geometries with GDAL's MakeValid instead of refusing them")
	noPNG := fs.Bool("no-quicklook", false, "write only the COGs")
	idProp := fs.String("id-property", "parcel_id", "attribute that holds the parcel id")
	parcelsCRS := fs.String("parcels-crs", "", "CRS of a parcels file that names none (EPSG:n, WKT or PROJ)")
	overwrite := fs.Bool("overwrite", false, "remove the files an earlier clip listed in DIR/clip.json first")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	forceProgress := fs.Bool("progress", false, "progress on stderr even when it is not a terminal")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: clip: unexpected arguments %q", errUsage, fs.Args())
	}
	for name, v := range map[string]string{"--scene": *scene, "--parcels": *parcelsPath, "--out": *out} {
		if v == "" {
			fs.Usage()
			return fmt.Errorf("%w: clip: %s is required", errUsage, name)
		}
	}

	env := raster.Env{AllowLocalFiles: true}
	var src raster.Source
	if rest, ok := strings.CutPrefix(*scene, "s3://"); ok {
		bucket, key, _ := strings.Cut(rest, "/")
		cfg, err := cmdconfig.FromEnv()
		if err != nil {
			return err
		}
		env = cfg.Raster()
		src = raster.S3Source(bucket, key)
	} else {
		// The operator named this file: make it absolute (and so free of "..").
		abs, err := filepath.Abs(*scene)
		if err != nil {
			return fmt.Errorf("clip: scene %s: %w", *scene, err)
		}
		if _, err := os.Stat(abs); err != nil {
			return fmt.Errorf("clip: scene %s: %w", *scene, err)
		}
		src = raster.FileSource(abs)
	}
	if err := env.CheckSource(src); err != nil {
		return fmt.Errorf("clip: scene %s: %w", *scene, err)
	}

	feats, err := readParcels(ctx, *parcelsPath, parcelOptions{idProp: *idProp, gcj02: *gcj02, repair: *repair, crs: *parcelsCRS})
	if err != nil {
		return fmt.Errorf("clip: %w", err)
	}
	parcels := make([]raster.Parcel, len(feats))
	for i, f := range feats {
		if err := process.CheckParcelID(f.ParcelID); err != nil {
			return fmt.Errorf("clip: parcels %s: feature %d: parcel_id %q cannot name a file: %v", *parcelsPath, f.Index, f.ParcelID, err)
		}
		parcels[i] = raster.Parcel{ID: f.ParcelID, Geometry: f.Geometry}
	}
	if err := prepareClipOut(*out, *overwrite); err != nil {
		return fmt.Errorf("clip: --out %s: %w", *out, err)
	}

	start := time.Now()
	prog := newProgress(stderr, "clip", progressMode(*quiet, *forceProgress))
	man := clipManifest{Scene: *scene, Parcels: *parcelsPath, Version: offsite.Version}
	write := func(name string, data []byte) error {
		man.Files = append(man.Files, name)
		return os.WriteFile(filepath.Join(*out, name), data, 0o644)
	}
	clipped := 0
	stats, err := raster.Clip(ctx, env, src, parcels, raster.ClipOptions{AllTouched: *allTouched, SkipQuickLook: *noPNG}, func(o raster.ClipOutput) error {
		clipped++
		defer prog.Update(clipped, len(parcels))
		if err := write(o.ParcelID+".tif", o.COG); err != nil {
			return err
		}
		if *noPNG {
			return nil
		}
		return write(o.ParcelID+".png", o.QuickLook)
	})
	prog.Done()
	if werr := writeClipManifest(*out, man); err == nil {
		err = werr
	}
	if err != nil {
		return fmt.Errorf("clip: %s: %w", *scene, err)
	}
	fetched := ""
	if stats.BytesFetched >= 0 && src.Path == "" {
		fetched = fmt.Sprintf(", %d bytes fetched", stats.BytesFetched)
	}
	fmt.Fprintf(stdout, "clip: %d of %d parcels clipped (%d outside the scene), %d blocks read%s, %.2fs → %s\n",
		stats.Clipped, stats.Parcels, stats.Missed, stats.BlocksRead, fetched, time.Since(start).Seconds(), *out)
	if stats.Clipped == 0 {
		return fmt.Errorf("clip: %w: none of the %d parcels of %s overlaps the scene %s", errNothing, stats.Parcels, *parcelsPath, *scene)
	}
	return nil
}

// prepareClipOut creates dir, or checks that it is empty; with overwrite it first removes
// the files an earlier clip listed in dir/clip.json. Files no clip wrote are never removed: a
// directory holding such files is refused even with overwrite.
func prepareClipOut(dir string, overwrite bool) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if overwrite {
		data, err := os.ReadFile(filepath.Join(dir, clipManifestName))
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			return err
		default:
			var m clipManifest
			if err := json.Unmarshal(data, &m); err != nil {
				return fmt.Errorf("%s: %v: remove the directory's contents by hand", clipManifestName, err)
			}
			for _, name := range m.Files {
				if name != filepath.Base(name) || name == "." || name == ".." {
					return fmt.Errorf("%s names %q, which is not a file of the directory", clipManifestName, name)
				}
				if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
			if err := os.Remove(filepath.Join(dir, clipManifestName)); err != nil {
				return err
			}
		}
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		if overwrite {
			return fmt.Errorf("holds %s, which no earlier clip listed in %s: give another directory", ents[0].Name(), clipManifestName)
		}
		return fmt.Errorf("holds %s: give an empty or new directory, or --overwrite to replace an earlier clip's outputs", ents[0].Name())
	}
	return nil
}

// writeClipManifest writes dir/clip.json.
func writeClipManifest(dir string, m clipManifest) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, clipManifestName), append(data, '\n'), 0o644)
}

// parcelOptions are the command-line flags that say how to read a parcels file.
type parcelOptions struct {
	idProp        string
	gcj02, repair bool
	crs           string // --parcels-crs
}

// readParcels reads and validates the parcels file named on the command line; with repair,
// invalid geometries come back repaired (GDAL's MakeValid) instead of refused.
func readParcels(ctx context.Context, path string, po parcelOptions) ([]geo.Feature, error) {
	opts := []geo.Option{geo.WithIDProperty(po.idProp)}
	if po.gcj02 {
		opts = append(opts, geo.WithGCJ02())
	}
	if po.repair {
		opts = append(opts, geo.WithRepair())
	}
	if po.crs != "" {
		opts = append(opts, geo.WithCRS(po.crs))
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("parcels %s: %w", path, err)
	}
	coll, err := geo.ReadFile(ctx, abs, opts...)
	if err != nil {
		return nil, fmt.Errorf("parcels %s: %w", path, err)
	}
	report, err := geo.Validate(coll.Features, opts...)
	if err == nil {
		err = report.Err()
	}
	var ve *geo.ValidationError
	if errors.As(err, &ve) && po.crs == "" && slices.ContainsFunc(ve.Problems, func(p geo.Problem) bool { return p.Code == geo.OutOfRange }) {
		return nil, fmt.Errorf("parcels %s: %w\n  (coordinates in metres are a projected CRS the file does not name: give it with --parcels-crs, e.g. EPSG:4547)", path, err)
	}
	if err != nil {
		return nil, fmt.Errorf("parcels %s: %w", path, err)
	}
	return report.Features, nil
}
