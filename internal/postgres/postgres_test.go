package postgres

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/paulmach/orb"

	"github.com/offsite/offsite"
	"github.com/offsite/offsite/internal/postgres/migrations"
	"github.com/offsite/offsite/internal/testenv"
)

// MustOpen opens a fresh, migrated test database.
func MustOpen(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(context.Background(), testenv.PostgresURL(tb))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(db.Close)
	return db
}

func TestMigrateEmptyDatabase(t *testing.T) {
	ctx := context.Background()
	pg := testenv.EmptyPostgres(t)
	// The application does not migrate: it refuses a schema that is not current.
	if _, err := Open(ctx, pg.URL); !errors.Is(err, ErrSchemaNotCurrent) {
		t.Fatalf("Open on an empty database: err = %v, want ErrSchemaNotCurrent", err)
	}
	// Several processes starting at once: each migration is applied exactly once.
	var wg sync.WaitGroup
	errs := make([]error, 3)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Migrate(ctx, pg.OwnerURL)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	db, err := Open(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ms, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.Pool.QueryRow(ctx, "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Errorf("schema_migrations has %d rows, want %d", n, len(ms))
	}
	// The geometry columns PostGIS knows about.
	rows, err := db.Pool.Query(ctx, `SELECT f_table_name || '.' || f_geometry_column || ' ' || type || ' ' || srid
		FROM geometry_columns WHERE f_table_name IN ('parcels', 'captures') ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	want := []string{"captures.footprint GEOMETRY 4326", "parcels.geom MULTIPOLYGON 4326"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("geometry columns (-want +got):\n%s", diff)
	}
}

func square(x, y, d float64) orb.Polygon {
	return orb.Polygon{{{x, y}, {x + d, y}, {x + d, y + d}, {x, y + d}, {x, y}}}
}

func TestParcels(t *testing.T) {
	ctx := context.Background()
	s := NewParcelService(MustOpen(t))
	ps := []*offsite.Parcel{
		{ID: "a", Name: "A", Geometry: square(120, 31, 0.01)},
		{ID: "b", EnterpriseUSCC: "91320594MA1MXXXX0X", Geometry: orb.MultiPolygon{square(121, 31, 0.01), square(121.1, 31, 0.01)}},
	}
	if err := s.UpsertParcels(ctx, ps); err != nil {
		t.Fatal(err)
	}
	got, err := s.FindParcelByID(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if mp, ok := got.Geometry.(orb.MultiPolygon); !ok || len(mp) != 2 || got.EnterpriseUSCC != ps[1].EnterpriseUSCC {
		t.Errorf("FindParcelByID(b) = %+v", got)
	}
	// Replace a's geometry.
	if err := s.UpsertParcels(ctx, []*offsite.Parcel{{ID: "a", Name: "A2", Geometry: square(122, 31, 0.01)}}); err != nil {
		t.Fatal(err)
	}
	hits, total, err := s.FindParcels(ctx, offsite.ParcelFilter{Intersects: square(121.995, 30.995, 0.01)})
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || len(hits) != 1 || hits[0].ID != "a" || hits[0].Name != "A2" {
		t.Errorf("intersecting parcels = %d %+v", total, hits)
	}
	// Scoped to an agency (1: the province migration 0040 creates): a parcel no enterprise owns
	// is shared by every agency (analysts anywhere survey it); one whose owner is not under the
	// agency (b's enterprise is not even recorded) is not.
	scoped, total, err := s.FindParcels(ctx, offsite.ParcelFilter{Agency: 1})
	if err != nil {
		t.Fatal(err)
	}
	if total != 1 || len(scoped) != 1 || scoped[0].ID != "a" {
		t.Errorf("parcels in reach of agency 1 = %d %+v, want only the unowned a", total, scoped)
	}
	if _, err := s.FindParcelByID(ctx, "zzz"); !errors.Is(err, offsite.ErrNotFound) {
		t.Errorf("missing parcel: err = %v, want ErrNotFound", err)
	}
	// All or nothing: an invalid (self-intersecting) geometry rejects the whole batch.
	bow := orb.Polygon{{{0, 0}, {1, 1}, {1, 0}, {0, 1}, {0, 0}}}
	err = s.UpsertParcels(ctx, []*offsite.Parcel{{ID: "c", Geometry: square(1, 1, 1)}, {ID: "d", Geometry: bow}})
	if !errors.Is(err, offsite.ErrInvalid) {
		t.Errorf("bow-tie parcel: err = %v, want ErrInvalid", err)
	}
	if _, err := s.FindParcelByID(ctx, "c"); !errors.Is(err, offsite.ErrNotFound) {
		t.Errorf("parcel c of a failed batch was stored: %v", err)
	}
}

func TestCapturesAndClips(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	if err := NewParcelService(db).UpsertParcels(ctx, []*offsite.Parcel{{ID: "p", Geometry: square(0, 0, 1)}}); err != nil {
		t.Fatal(err)
	}
	s := NewCaptureService(db)
	c := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Date(2026, 5, 1, 2, 30, 0, 0, time.UTC), Bucket: "b", Key: "k.tif"}
	if err := s.CreateCapture(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.ID == 0 || c.Status != offsite.CaptureRegistered {
		t.Errorf("created capture = %+v", c)
	}
	dup := &offsite.Capture{Kind: offsite.KindSentinel2, AcquiredAt: time.Now(), Bucket: "b", Key: "k.tif"}
	if err := s.CreateCapture(ctx, dup); !errors.Is(err, offsite.ErrConflict) {
		t.Errorf("same object twice: err = %v, want ErrConflict", err)
	}
	st, crs, w := offsite.CaptureProcessed, "EPSG:32650", 300
	got, err := s.UpdateCapture(ctx, c.ID, offsite.CaptureUpdate{Status: &st, CRS: &crs, Width: &w, Footprint: square(0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != st || got.CRS != crs || got.Width != w || got.Footprint == nil {
		t.Errorf("updated capture = %+v", got)
	}
	if _, err := s.UpdateCapture(ctx, 999999, offsite.CaptureUpdate{Status: &st}); !errors.Is(err, offsite.ErrNotFound) {
		t.Errorf("update missing capture: err = %v", err)
	}
	bad := "exploded"
	if _, err := s.UpdateCapture(ctx, c.ID, offsite.CaptureUpdate{Status: &bad}); !errors.Is(err, offsite.ErrInvalid) {
		t.Errorf("unknown status: err = %v, want ErrInvalid", err)
	}

	sum := "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	clip := &offsite.Clip{CaptureID: c.ID, ParcelID: "p", COGKey: "k1", COGSHA256: sum, COGBytes: 10,
		QuickLookKey: "k2", QuickLookSHA256: sum, Width: 3, Height: 4, ValidPixels: 12}
	if err := s.RecordClips(ctx, []*offsite.Clip{clip}); err != nil {
		t.Fatal(err)
	}
	// Recording again with other values keeps the first record.
	again := *clip
	again.COGKey = "other"
	if err := s.RecordClips(ctx, []*offsite.Clip{&again}); err != nil {
		t.Fatal(err)
	}
	clips, err := s.FindClips(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(clips) != 1 || clips[0].COGKey != "k1" {
		t.Errorf("clips after a repeated record = %+v", clips)
	}
	// A clip for an unknown parcel is refused, and the batch with it.
	other := *clip
	other.ParcelID = "nope"
	if err := s.RecordClips(ctx, []*offsite.Clip{&other}); !errors.Is(err, offsite.ErrInvalid) {
		t.Errorf("clip of unknown parcel: err = %v, want ErrInvalid", err)
	}
	ids, err := s.FindCaptureIDsByStatus(ctx, offsite.CaptureProcessed, 10)
	if err != nil || len(ids) != 1 || ids[0] != c.ID {
		t.Errorf("FindCaptureIDsByStatus = %v, %v", ids, err)
	}
}

// TestFormatErrorCategories: constraint and input errors become categories with their
// message; PostgreSQL's internal errors (XX000, which PostGIS raises) stay uncategorised, so
// the API answers "internal error" and logs the database's message instead of sending it.
func TestFormatErrorCategories(t *testing.T) {
	for _, tc := range []struct {
		code string
		want error
	}{
		{"23505", offsite.ErrConflict},
		{"23503", offsite.ErrInvalid},
		{"23514", offsite.ErrInvalid},
		{"22023", offsite.ErrInvalid},
		{"22021", offsite.ErrInvalid},
		{"XX000", nil},
	} {
		err := formatError(&pgconn.PgError{Code: tc.code, Message: "lwgeom internal detail"})
		for _, cat := range []error{offsite.ErrConflict, offsite.ErrInvalid, offsite.ErrNotFound} {
			if got := errors.Is(err, cat); got != (cat == tc.want) {
				t.Errorf("formatError(%s) is %v: %v, want %v", tc.code, cat, got, cat == tc.want)
			}
		}
	}
}
