package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/hibiken/asynq"

	"github.com/offsite/offsite/cmd/internal/cmdconfig"
	"github.com/offsite/offsite/internal/apiclient"
	"github.com/offsite/offsite/internal/postgres"
	"github.com/offsite/offsite/internal/sample"
	"github.com/offsite/offsite/internal/tasks"
)

// demoLoggers are the simulated data loggers of the demo enterprise: two stacks and an
// outfall. DA001 runs three hours of the day with too little desulphurisation.
var demoLoggers = []struct {
	mn, outlet, name string
	lon, lat         float64
	exceed           map[int]bool
}{
	{"DEMOSIP002DA001", "DA001", "1# 锅炉烟囱", 120.7211, 31.3312, map[int]bool{9: true, 10: true, 11: true}},
	{"DEMOSIP002DA002", "DA002", "2# 锅炉烟囱", 120.7216, 31.3309, nil},
	{"DEMOSIP002DW001", "DW001", "废水总排口", 120.7222, 31.3301, nil},
}

// demoLimits are the permit's limits (GB 13223-2011 table 1 for coal-fired boilers at 6 % O2;
// GB 8978-1996 grade 1 for the outfall).
var demoLimits = []struct {
	outlet, pollutant string
	body              map[string]any
}{
	{"DA001", "so2", map[string]any{"hourly": 100, "daily": 80, "o2_ref": 6, "basis": "GB 13223-2011 表1"}},
	{"DA001", "nox", map[string]any{"hourly": 100, "o2_ref": 6, "basis": "GB 13223-2011 表1"}},
	{"DA001", "dust", map[string]any{"hourly": 30, "o2_ref": 6, "basis": "GB 13223-2011 表1"}},
	{"DA002", "so2", map[string]any{"hourly": 100, "daily": 80, "o2_ref": 6, "basis": "GB 13223-2011 表1"}},
	{"DW001", "cod", map[string]any{"hourly": 100, "basis": "GB 8978-1996 一级"}},
	{"DW001", "nh3n", map[string]any{"hourly": 15, "basis": "GB 8978-1996 一级"}},
}

const demoPW = "DemoPW212"

// runMonitoring registers the demo enterprise's monitoring points and limits, has the
// simulated loggers send yesterday's hour data, and waits for the analysis to find DA001's
// exceedance and to open (or join) an inspection of the enterprise with its self-check
// asked for.
//
// The loggers send real HJ 212-2017 frames over TCP to receiver (host:port) when it is set,
// waiting for each frame's 9014 acknowledgement and sending it again when none comes; the
// receiver stores them and queues the hourly analysis. Without a receiver, the frames and
// their values are written through the store function the tests use
// (postgres.MonitoringRegistry.StoreUpload) and the analysis is queued here.
func runMonitoring(ctx context.Context, c *apiclient.Client, uscc, receiver string, timeout time.Duration, stdout io.Writer) error {
	for _, l := range demoLoggers {
		err := c.Do(ctx, "POST", "/api/v1/monitoring/points", map[string]any{"mn": l.mn, "uscc": uscc, "outlet": l.outlet, "name": l.name,
			"location": []float64{l.lon, l.lat}, "password": demoPW}, nil)
		if err != nil && !strings.Contains(err.Error(), "409") {
			return fmt.Errorf("register monitoring point %s: %w", l.mn, err)
		}
	}
	for _, l := range demoLimits {
		if err := c.Do(ctx, "PUT", fmt.Sprintf("/api/v1/enterprises/%s/monitoring/limits/%s/%s", uscc, l.outlet, l.pollutant), l.body, nil); err != nil {
			return fmt.Errorf("set limit %s %s: %w", l.outlet, l.pollutant, err)
		}
	}
	now := time.Now().In(cst)
	day := time.Date(now.Year(), now.Month(), now.Day()-1, 0, 0, 0, 0, cst)
	var uploads []sample.HJ212Upload
	for i, l := range demoLoggers {
		if strings.HasPrefix(l.outlet, "DW") {
			uploads = append(uploads, (&sample.OutfallLogger{MN: l.mn, PW: demoPW, Seed: i}).Hours(day)...)
		} else {
			uploads = append(uploads, (&sample.StackLogger{MN: l.mn, PW: demoPW, Seed: i, Exceed: l.exceed}).Hours(day)...)
		}
	}
	sample.SortUploads(uploads)
	how := "written through the store"
	if receiver != "" {
		if err := sendFrames(ctx, receiver, uploads); err != nil {
			return err
		}
		how = "sent to the receiver at " + receiver
	} else if err := storeFrames(ctx, uploads); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nmonitoring  %d hour uploads of %d loggers for %s %s\n", len(uploads), len(demoLoggers), day.Format("2006-01-02"), how)

	// Wait for the analysis.
	var mon struct {
		Events []struct {
			Class      string         `json:"class"`
			Severity   string         `json:"severity"`
			Properties map[string]any `json:"properties"`
			Artifacts  []struct {
				SHA256 string `json:"sha256"`
			} `json:"artifacts"`
		} `json:"events"`
		Exceedances []struct {
			MN, Status string
		} `json:"exceedances"`
	}
	start := time.Now()
	for {
		if err := c.Do(ctx, "GET", "/api/v1/enterprises/"+uscc+"/monitoring", nil, &mon); err != nil {
			return err
		}
		if len(mon.Exceedances) > 0 {
			break
		}
		if time.Since(start) > timeout {
			return fmt.Errorf("no exceedance found in the monitoring data after %s: is the worker running?", timeout)
		}
		if err := sleep(ctx, 500*time.Millisecond); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MONITORING EVENTS\nMN\tRULE\tSEVERITY\tSUMMARY\tFRAMES\tCHART SHA-256")
	for _, e := range mon.Events {
		frames, _ := e.Properties["frames"].([]any)
		chart := ""
		if len(e.Artifacts) > 0 {
			chart = e.Artifacts[0].SHA256[:16] + "…"
		}
		fmt.Fprintf(tw, "%v\t%s\t%s\t%v\t%d\t%s\n", e.Properties["mn"], e.Class, e.Severity, e.Properties["summary"], len(frames), chart)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, e := range mon.Exceedances {
		if e.MN != demoLoggers[0].mn {
			return fmt.Errorf("an exceedance on %s, which stayed within its limits", e.MN)
		}
	}
	var insp struct {
		Inspections []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"inspections"`
	}
	if err := c.Do(ctx, "GET", "/api/v1/inspections?uscc="+uscc, nil, &insp); err != nil {
		return err
	}
	for _, in := range insp.Inspections {
		if in.Status != "closed" {
			fmt.Fprintf(stdout, "inspection %d of %s: %s (the enterprise checks itself first, 三.7)\n", in.ID, uscc, in.Status)
			return nil
		}
	}
	return fmt.Errorf("the exceedance opened no inspection of %s", uscc)
}

var cst = time.FixedZone("CST", 8*3600)

// sendFrames sends each upload's frame to the receiver as a logger does (HJ 212-2017 6.5:
// with Flag=5 a data upload is answered with CN=9014 naming its QN), sending a frame again,
// on a new connection, when no answer comes in time.
func sendFrames(ctx context.Context, addr string, uploads []sample.HJ212Upload) error {
	var conn net.Conn
	var rd *bufio.Reader
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for _, u := range uploads {
		frame := u.Frame()
		qn := "QN=" + u.DataTime.In(cst).Format("20060102150405") + "000"
		var lastErr error
		acked := false
		for attempt := 0; attempt < 3 && !acked; attempt++ {
			if conn == nil {
				d := net.Dialer{Timeout: 5 * time.Second}
				c, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					lastErr = err
					if err := sleep(ctx, time.Second); err != nil {
						return err
					}
					continue
				}
				conn, rd = c, bufio.NewReader(c)
			}
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			if _, err := conn.Write(frame); err != nil {
				lastErr = err
				conn.Close()
				conn = nil
				continue
			}
			for {
				line, err := rd.ReadString('\n')
				if err != nil {
					lastErr = err
					conn.Close()
					conn = nil
					break
				}
				if strings.Contains(line, "CN=9014") && strings.Contains(line, qn) {
					acked = true
					break
				}
			}
		}
		if !acked {
			return fmt.Errorf("receiver %s did not acknowledge the upload of %s at %s: %v", addr, u.MN, u.DataTime.Format(time.RFC3339), lastErr)
		}
	}
	return nil
}

// storeFrames writes the uploads as the receiver stores them, and queues the hourly analysis
// of each logger's last hour as the receiver would (its window covers the whole day).
func storeFrames(ctx context.Context, uploads []sample.HJ212Upload) error {
	cfg, err := cmdconfig.FromEnv()
	if err != nil {
		return err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("monitoring data: %w", err)
	}
	defer db.Close()
	st := postgres.NewMonitoringRegistry(postgres.NewEnforceService(db, postgres.AuditConfig{}))
	last := map[string]time.Time{}
	for _, u := range uploads {
		raw := u.Frame()
		sum := sha256.Sum256(raw)
		fr := &postgres.LoggerUpload{RemoteAddr: "demo", SHA256: hex.EncodeToString(sum[:]), Raw: raw, Version: "2017",
			QN: u.DataTime.In(cst).Format("20060102150405") + "000", ST: u.ST, CN: u.CN, MN: u.MN, DataTime: u.DataTime}
		for _, v := range u.Values {
			avg := v.Avg
			fr.Values = append(fr.Values, postgres.LoggerValue{Factor: v.Code, Avg: &avg, Flag: v.Flag})
		}
		if err := st.StoreUpload(ctx, fr); err != nil {
			return err
		}
		if u.DataTime.After(last[u.MN]) {
			last[u.MN] = u.DataTime
		}
	}
	q := asynq.NewClient(cfg.Redis())
	defer q.Close()
	for mn, at := range last {
		task, err := tasks.NewMonitoringAnalyzeTask(mn, at)
		if err != nil {
			return err
		}
		if _, err := q.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("queue the analysis of %s: %w", mn, err)
		}
	}
	return nil
}
