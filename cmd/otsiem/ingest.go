package main

import (
	"context"
	"io"
	"net/netip"
	"time"

	"github.com/otsiem/otsiem/ingest"
	"github.com/otsiem/otsiem/ingest/bus"
	_ "github.com/otsiem/otsiem/ingest/decode/all" // every vendor decoder
)

func init() {
	register(command{name: "ingest", summary: "run the syslog collectors, publishing events to NATS JetStream", run: runIngest})
}

func runIngest(args []string, _, stderr io.Writer) int {
	s, code := newService("ingest", args, stderr)
	if s == nil {
		return code
	}
	return s.runStage(func(ctx context.Context, b *bus.Bus) (stage, error) { return s.startIngest(ctx, b) })
}

// ingestStage is the running collector stack.
type ingestStage struct {
	pub       *bus.Publisher
	batcher   *bus.Batcher
	collector *ingest.Collector
	done      chan struct{}
	cancel    context.CancelFunc
}

// startIngest opens the listeners and starts collecting onto the bus.
func (s *service) startIngest(ctx context.Context, b *bus.Bus) (*ingestStage, error) {
	pc := s.cfg.Ingest.Publish
	pc.Stage, pc.Registerer, pc.Logger = "ingest", s.reg, s.log
	pub, err := b.NewPublisher(pc)
	if err != nil {
		return nil, err
	}
	st := &ingestStage{pub: pub, batcher: bus.NewBatcher(pub, s.cfg.Ingest.Batch), done: make(chan struct{})}
	pipeline := ingest.NewPipeline(ingest.PipelineConfig{Site: s.site, Events: st.batcher, DeadLetters: pub,
		SenderMatches: s.senderMatches, Registerer: s.reg})
	opts := ingest.Options{Registerer: s.reg, Logger: s.log}
	if s.cfg.Ingest.AllowOnlyModelDevices {
		opts.AllowSender = func(a netip.Addr) bool { return s.model.DeviceByAddr(a) != nil }
	}
	if st.collector, err = ingest.NewCollector(s.cfg.Ingest.Listeners, pipeline, opts); err != nil {
		st.batcher.Close(context.Background())
		pub.Close(context.Background())
		return nil, err
	}
	for name, addr := range st.collector.Addrs() {
		s.log.Info("listening for syslog", "listener", name, "address", addr.String(), "network", addr.Network())
	}
	cctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	st.cancel = cancel
	go func() { _ = st.collector.Run(cctx); close(st.done) }()
	return st, nil
}

// healthy reports JetStream refusing the events.
func (st *ingestStage) healthy() error { return st.pub.Err() }

// close stops accepting, drains the connections, publishes what is left
// and waits for every acknowledgement; what JetStream never accepted is
// counted and logged (bus.Publisher.Close). The bus stays open.
func (st *ingestStage) close() error {
	st.cancel()
	<-st.done
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := st.batcher.Close(ctx)
	if perr := st.pub.Close(ctx); err == nil {
		err = perr
	}
	return err
}
