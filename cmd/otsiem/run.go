package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/simulate"
)

func init() {
	register(command{name: "run", summary: "run every stage in one process on embedded NATS and ClickHouse (optionally fed by the simulator)", run: runRun})
}

// runOptions are `otsiem run`'s own flags.
type runOptions struct {
	config       string
	simulateRate float64
	scenarios    string
	seed         uint64
	every        time.Duration
	console      time.Duration
	duration     time.Duration
}

func runRun(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o runOptions
	fs.StringVar(&o.config, "config", "", "configuration file (default: built-in defaults, see config/otsiem.example.yaml)")
	fs.Float64Var(&o.simulateRate, "simulate", 0, "also run the refinery simulator at this many lines per second, sending to the first TCP listener")
	fs.StringVar(&o.scenarios, "scenario", "all", "scenarios the simulator injects (comma-separated, \"all\" or \"none\")")
	fs.Uint64Var(&o.seed, "seed", 1, "simulator seed")
	fs.DurationVar(&o.every, "scenario-every", 5*time.Second, "time between the scenarios the simulator injects")
	fs.DurationVar(&o.console, "console", 5*time.Second, "print a live summary this often (0: never)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after this long (0: run until interrupted)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: otsiem run [--config FILE] [--simulate RATE] [flags]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() != 0 {
		fs.Usage()
		return 2
	}
	s, code := newServiceFrom("run", o.config, stderr)
	if s == nil {
		return code
	}
	ctx, cancel := signalContext()
	defer cancel()
	if o.duration > 0 {
		var c context.CancelFunc
		ctx, c = context.WithTimeout(ctx, o.duration)
		defer c()
	}
	p, err := s.startPipeline(ctx)
	if err != nil {
		s.log.Error("start", "err", err)
		return 1
	}
	stopHTTP, err := s.serveHTTP(func() error { return nil })
	if err != nil {
		s.log.Error("start", "err", err)
		p.close(s)
		return 1
	}
	defer stopHTTP()

	var wg sync.WaitGroup
	simCtx, stopSim := context.WithCancel(ctx)
	defer stopSim()
	if o.simulateRate > 0 {
		addr := p.tcpAddr()
		if addr == "" {
			s.log.Error("start", "err", "--simulate needs a tcp listener")
			p.close(s)
			return 1
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.runSimulator(simCtx, addr, o); err != nil && simCtx.Err() == nil {
				s.log.Error("simulator", "err", err)
			}
		}()
	}
	if o.console > 0 {
		con := newConsole(p.bus.NC, s.reg)
		defer con.stop()
		wg.Add(1)
		go func() {
			defer wg.Done()
			con.loop(ctx, stdout, o.console)
		}()
	}
	<-ctx.Done()
	s.log.Info("shutting down: draining the pipeline")
	stopSim()
	wg.Wait()
	if err := p.close(s); err != nil {
		s.log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}

// pipeline is every stage running in one process on one bus.
type pipeline struct {
	bus       *bus.Bus
	ingest    *ingestStage
	correlate *correlateStage
	store     *storeStage
}

// startPipeline starts the bus and the stages, downstream first so nothing
// waits for a consumer.
func (s *service) startPipeline(ctx context.Context) (*pipeline, error) {
	b, err := s.openBus(ctx)
	if err != nil {
		return nil, err
	}
	p := &pipeline{bus: b}
	if p.store, err = s.startStore(ctx, b); err != nil {
		b.Close()
		return nil, err
	}
	if p.correlate, err = s.startCorrelate(ctx, b); err != nil {
		p.store.close()
		b.Close()
		return nil, err
	}
	if p.ingest, err = s.startIngest(ctx, b); err != nil {
		p.correlate.close()
		p.store.close()
		b.Close()
		return nil, err
	}
	return p, nil
}

func (p *pipeline) tcpAddr() string {
	for _, a := range p.ingest.collector.Addrs() {
		if ta, ok := a.(*net.TCPAddr); ok {
			return ta.String()
		}
	}
	return ""
}

// close stops taking input, lets the downstream stages work off what is
// on the bus (up to a minute), then stops them. Whatever is left stays in
// JetStream for the next start.
func (p *pipeline) close(s *service) error {
	err := p.ingest.close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if werr := waitIdle(ctx, p.bus); werr != nil {
		s.log.Warn("stopping with work left on the bus; it is taken up at the next start", "err", werr)
	}
	if cerr := p.correlate.close(); err == nil {
		err = cerr
	}
	if cerr := p.store.close(); err == nil {
		err = cerr
	}
	p.bus.Close()
	return err
}

// waitIdle waits until no durable consumer of otsiem's streams has
// messages pending or unacknowledged.
func waitIdle(ctx context.Context, b *bus.Bus) error {
	for {
		pending, err := busPending(ctx, b)
		if err == nil && pending == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d messages pending: %w", pending, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func busPending(ctx context.Context, b *bus.Bus) (uint64, error) {
	var n uint64
	for _, sc := range b.StreamConfigs() {
		st, err := b.JS.Stream(ctx, sc.Name)
		if err != nil {
			return 0, err
		}
		l := st.ListConsumers(ctx)
		for ci := range l.Info() {
			if ci.Config.Durable == "" {
				continue // ordered consumers follow a durable position of their own
			}
			n += ci.NumPending + uint64(ci.NumAckPending)
		}
		if err := l.Err(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// runSimulator feeds the refinery simulator to the collector over TCP.
func (s *service) runSimulator(ctx context.Context, addr string, o runOptions) error {
	cfg := simulate.Config{Rate: o.simulateRate, Seed: o.seed, ScenarioEvery: o.every}
	if o.scenarios != "" && o.scenarios != "none" {
		cfg.Scenarios = strings.Split(o.scenarios, ",")
	}
	g, err := simulate.New(cfg)
	if err != nil {
		return err
	}
	w, err := simulate.Dial(ctx, simulate.Target{Network: "tcp", Address: addr})
	if err != nil {
		return err
	}
	s.log.Info("simulator sending", "rate", o.simulateRate, "to", addr, "scenarios", o.scenarios)
	st, err := simulate.Run(ctx, g, w, 0, 0, true)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	s.log.Info("simulator stopped", "lines", st.Lines)
	return err
}

// console prints a live summary: throughput, findings, the most violated
// conduits, would-blocks per conduit and diode state. Findings come from
// the findings subject, counts from the metrics.
type console struct {
	reg      prometheus.Gatherer
	sub      *nats.Subscription
	mu       sync.Mutex
	findings map[string]event.Finding // latest revision per finding id
	last     float64
	lastAt   time.Time
}

func newConsole(nc *nats.Conn, reg prometheus.Gatherer) *console {
	c := &console{reg: reg, findings: map[string]event.Finding{}, lastAt: time.Now()}
	c.sub, _ = nc.Subscribe(bus.SubjectFindings+".>", func(m *nats.Msg) {
		_ = bus.SplitRecords(m.Data, func(r []byte) error {
			var f event.Finding
			if f.UnmarshalJSON(r) == nil {
				c.mu.Lock()
				if old, ok := c.findings[f.FindingID]; !ok || f.Revision >= old.Revision {
					c.findings[f.FindingID] = f
				}
				c.mu.Unlock()
			}
			return nil
		})
	})
	return c
}

func (c *console) stop() {
	if c.sub != nil {
		_ = c.sub.Unsubscribe()
	}
}

func (c *console) loop(ctx context.Context, w io.Writer, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.print(w)
		}
	}
}

func (c *console) print(w io.Writer) {
	fams, _ := c.reg.Gather()
	events := sumMetric(fams, "otsiem_ingest_events_total")
	now := time.Now()
	rate := (events - c.last) / now.Sub(c.lastAt).Seconds()
	c.last, c.lastAt = events, now

	violated := map[string]float64{}
	wouldBlock := map[string]float64{}
	forEach(fams, "otsiem_correlate_verdicts_total", func(l map[string]string, v float64) {
		switch l["verdict"] {
		case "violation", "policy_drift", "blocked", "false_block":
			violated[conduitLabel(l["conduit"])] += v
		case "would_block":
			wouldBlock[conduitLabel(l["conduit"])] += v
		}
	})
	c.mu.Lock()
	byType := map[string]int{}
	bySev := map[string]int{}
	diodes := map[string]string{}
	for _, f := range c.findings {
		byType[f.Type]++
		bySev[string(f.Severity)]++
		if strings.HasPrefix(f.Type, "diode_") {
			state := f.Type
			if f.Status == "closed" {
				state = "recovered"
			}
			key := f.DiodeID
			if side, ok := f.Attr("side"); ok {
				key += " " + side
			}
			diodes[key] = state
		}
	}
	c.mu.Unlock()
	fmt.Fprintf(w, "\n%s  events %.0f (%.0f/s)  findings %d\n", now.Format("15:04:05"), events, rate, len(c.findings))
	fmt.Fprintf(w, "  by severity: %s\n", counts(bySev, []string{"critical", "high", "medium", "low", "info"}))
	fmt.Fprintf(w, "  by type:     %s\n", counts(byType, nil))
	fmt.Fprintf(w, "  most violated conduits: %s\n", top(violated, 3))
	fmt.Fprintf(w, "  would-block per conduit (monitor mode): %s\n", top(wouldBlock, 5))
	if len(diodes) > 0 {
		fmt.Fprintf(w, "  diodes: %s\n", strings.Join(sortedPairs(diodes), ", "))
	} else {
		fmt.Fprintln(w, "  diodes: ok")
	}
}

func forEach(fams []*dto.MetricFamily, name string, f func(labels map[string]string, v float64)) {
	for _, fam := range fams {
		if fam.GetName() != name {
			continue
		}
		for _, m := range fam.GetMetric() {
			l := map[string]string{}
			for _, lp := range m.GetLabel() {
				l[lp.GetName()] = lp.GetValue()
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			f(l, v)
		}
	}
}

func sumMetric(fams []*dto.MetricFamily, name string) float64 {
	var sum float64
	forEach(fams, name, func(_ map[string]string, v float64) { sum += v })
	return sum
}

func counts(m map[string]int, order []string) string {
	if order == nil {
		for k := range m {
			order = append(order, k)
		}
		sort.Strings(order)
	}
	var parts []string
	for _, k := range order {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func top(m map[string]float64, n int) string {
	type kv struct {
		k string
		v float64
	}
	var l []kv
	for k, v := range m {
		l = append(l, kv{k, v})
	}
	sort.Slice(l, func(i, j int) bool { return l[i].v > l[j].v || l[i].v == l[j].v && l[i].k < l[j].k })
	var parts []string
	for i := 0; i < len(l) && i < n; i++ {
		parts = append(parts, fmt.Sprintf("%s %.0f", l[i].k, l[i].v))
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

func sortedPairs(m map[string]string) []string {
	var out []string
	for k, v := range m {
		out = append(out, k+": "+v)
	}
	sort.Strings(out)
	return out
}

func conduitLabel(c string) string {
	if c == "" || c == "none" {
		return "(no conduit)"
	}
	return c
}
