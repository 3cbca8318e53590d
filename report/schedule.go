package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/otsiem/otsiem/rules"
)

// LastPeriod returns the n-th last calendar period (UTC) of a kind that
// closed at or before t: n = 1 is the one that closed last. Kinds: daily,
// weekly (from Monday), monthly, quarterly; also "Nd" for N-day periods
// ending at a UTC midnight.
func LastPeriod(every string, t time.Time, n int) (from, to time.Time, err error) {
	t = t.UTC()
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch every {
	case "daily":
		to = day.AddDate(0, 0, 1-n)
		return to.AddDate(0, 0, -1), to, nil
	case "weekly":
		monday := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
		to = monday.AddDate(0, 0, 7*(1-n))
		return to.AddDate(0, 0, -7), to, nil
	case "monthly":
		to = time.Date(t.Year(), t.Month()-time.Month(n-1), 1, 0, 0, 0, 0, time.UTC)
		return to.AddDate(0, -1, 0), to, nil
	case "quarterly", "quarter":
		q := time.Month((int(t.Month())-1)/3*3 + 1)
		to = time.Date(t.Year(), q-time.Month(3*(n-1)), 1, 0, 0, 0, 0, time.UTC)
		return to.AddDate(0, -3, 0), to, nil
	}
	if d, ok := strings.CutSuffix(every, "d"); ok {
		if k, e := strconv.Atoi(d); e == nil && k > 0 {
			to = day.AddDate(0, 0, -k*(n-1))
			return to.AddDate(0, 0, -k), to, nil
		}
	}
	return from, to, fmt.Errorf("period %q: want daily, weekly, monthly, quarterly or a number of days such as 7d", every)
}

// Scheduler writes the scheduled reports: at start and then every
// minute, each schedule's last closed period (once its delay has passed)
// is written if its files are not there yet, so a restart neither skips
// nor repeats a period. Files are named
// <site>-<every>-<from>_<to>.<ext> (dates YYYY-MM-DD) and written whole
// (a temporary file renamed into place).
type Scheduler struct {
	Conn      driver.Conn
	Model     func() (*rules.Model, error) // the model in force, read when a report is due
	Schedules []Schedule
	Version   string
	DataDir   string
	Options   Options // tolerances; From, To and Now are set per report
	Log       *slog.Logger
	// Tick is the check interval (default 1m).
	Tick time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
}

// Run writes due reports until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	tick := s.Tick
	if tick <= 0 {
		tick = time.Minute
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("scheduled report", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce writes every schedule's due report that is not written yet and
// returns the files it wrote.
func (s *Scheduler) RunOnce(ctx context.Context) ([]string, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	var written []string
	var errs []error
	for _, sc := range s.Schedules {
		delay := sc.Delay
		if delay == 0 {
			delay = 15 * time.Minute
		}
		from, to, err := LastPeriod(sc.Every, now().Add(-delay), 1)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		files, err := s.write(ctx, sc, from, to, now())
		written = append(written, files...)
		errs = append(errs, err)
	}
	return written, errors.Join(errs...)
}

func (s *Scheduler) write(ctx context.Context, sc Schedule, from, to, now time.Time) ([]string, error) {
	dir := sc.Dir
	if dir == "" {
		dir = filepath.Join(s.DataDir, "reports")
	}
	formats := sc.Formats
	if len(formats) == 0 {
		formats = []string{"text", "html", "pdf"}
	}
	m, err := s.Model()
	if err != nil {
		return nil, err
	}
	base := filepath.Join(dir, fmt.Sprintf("%s-%s-%s_%s", m.Site, sc.Every, day(from), day(to)))
	var due []string
	for _, f := range formats {
		if _, err := os.Stat(base + Formats[f]); errors.Is(err, os.ErrNotExist) {
			due = append(due, f)
		}
	}
	if len(due) == 0 {
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	opts := s.Options
	opts.From, opts.To, opts.Now, opts.Version = from, to, now, s.Version
	r, err := Build(ctx, s.Conn, m, opts)
	if err != nil {
		return nil, err
	}
	var written []string
	for _, f := range slices.Compact(due) {
		name := base + Formats[f]
		if err := WriteFile(name, r, f); err != nil {
			return written, err
		}
		written = append(written, name)
		s.Log.Info("scheduled report written", "file", name, "from", from, "to", to)
	}
	return written, nil
}

// WriteFile writes a report in a format to a file, whole or not at all.
func WriteFile(name string, r *Report, format string) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".*")
	if err != nil {
		return fmt.Errorf("report: write %s: %w", name, errors.Unwrap(err))
	}
	defer os.Remove(tmp.Name())
	if err := Write(tmp, r, format); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}
