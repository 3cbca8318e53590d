package main

import (
	"context"
	"net/netip"

	"github.com/otsiem/otsiem/ingest"
	_ "github.com/otsiem/otsiem/ingest/decode/all" // every vendor decoder
)

func init() {
	register(serviceCommand("ingest", "run the syslog collectors, publishing events to NATS JetStream", (*service).startIngest))
}

// ingestStage is the running collector stack.
type ingestStage struct {
	*stage
	svc *ingest.Service
}

// startIngest opens the listeners and starts collecting onto the bus. The
// sender checks read the model holder, so they follow reloads.
func (s *service) startIngest(ctx context.Context, p *pipeline) error {
	d := ingest.Deps{Bus: p.bus, Site: s.site, SenderMatches: s.senderMatches, Registerer: s.reg, Logger: s.log,
		AllowSender: func(a netip.Addr) bool { return s.models.Load().DeviceByAddr(a) != nil }}
	svc, err := ingest.New(s.cfg.Ingest, d)
	if err != nil {
		return err
	}
	p.ingest = &ingestStage{stage: startStage("ingest", svc.Run, svc.Err), svc: svc}
	return nil
}
