package bus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// NewInstance returns a random name for this process (a NUID), for a
// Lease holder.
func NewInstance() string { return nats.NewInbox()[len(nats.InboxPrefix):] }

// Lease is a key in a JetStream key-value bucket that one process at a
// time holds: the holder takes it by creating the key, keeps it by
// updating it at its last revision more often than the bucket's TTL, and
// loses it when the key expires (it stopped renewing) or another process
// wrote it. It is for one goroutine.
type Lease struct {
	kv          jetstream.KeyValue
	key, holder string
	rev         uint64
}

// ErrLeaseHeld is returned by Take while another process holds the lease,
// and by Renew when this one lost it.
var ErrLeaseHeld = errors.New("bus: lease held by another process")

// Lease declares the bucket (entries expire after ttl) and returns the
// lease on key for holder (see NewInstance).
func (b *Bus) Lease(ctx context.Context, bucket, key, holder string, ttl time.Duration) (*Lease, error) {
	kv, err := b.JS.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: bucket, TTL: ttl, History: 1, Replicas: b.Replicas()})
	if err != nil {
		return nil, fmt.Errorf("lease bucket %s: %w", bucket, err)
	}
	return &Lease{kv: kv, key: key, holder: holder}, nil
}

// Take takes the lease if nobody holds it.
func (l *Lease) Take(ctx context.Context) error {
	rev, err := l.kv.Create(ctx, l.key, []byte(l.holder))
	if err != nil {
		if errors.Is(err, jetstream.ErrKeyExists) {
			return ErrLeaseHeld
		}
		return fmt.Errorf("take lease %s: %w", l.key, err)
	}
	l.rev = rev
	return nil
}

// Renew keeps the lease for another TTL; it fails when the lease was lost.
func (l *Lease) Renew(ctx context.Context) error {
	rev, err := l.kv.Update(ctx, l.key, []byte(l.holder), l.rev)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrLeaseHeld, err)
	}
	l.rev = rev
	return nil
}

// Release hands the lease over at once, if this process still holds it.
func (l *Lease) Release() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = l.kv.Delete(ctx, l.key, jetstream.LastRevision(l.rev))
}

// Blobs is a JetStream object store bucket: named blobs of any size, such
// as a stage's saved state.
type Blobs struct{ obs jetstream.ObjectStore }

// ErrNoBlob is returned by Get for a name never put.
var ErrNoBlob = errors.New("bus: no such blob")

// Blobs declares the bucket and returns it.
func (b *Bus) Blobs(ctx context.Context, bucket string) (*Blobs, error) {
	obs, err := b.JS.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: bucket, Replicas: b.Replicas()})
	if err != nil {
		return nil, fmt.Errorf("object bucket %s: %w", bucket, err)
	}
	return &Blobs{obs: obs}, nil
}

// Get returns the blob, or ErrNoBlob.
func (o *Blobs) Get(ctx context.Context, name string) ([]byte, error) {
	data, err := o.obs.GetBytes(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, ErrNoBlob
	}
	return data, err
}

// Put stores the blob under name, replacing what it held.
func (o *Blobs) Put(ctx context.Context, name string, data []byte) error {
	_, err := o.obs.PutBytes(ctx, name, data)
	return err
}
