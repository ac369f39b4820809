package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// handoffTimeout bounds how long Drain waits for this node's event actors
// to stop (each writes its last snapshot) once placement passed it over.
const handoffTimeout = 30 * time.Second

// Drain takes the node out of service without an error for anyone, then
// closes drained (cmdServe exits on it; Close does the rest):
//
//  1. /readyz fails, so load balancers (and the readiness-aware loadgen)
//     send new requests elsewhere; the node keeps serving for DrainDelay.
//  2. Seat-map and waiting-room sockets are closed with 1012 "draining":
//     their pages reconnect at once, through the balancer, to another node.
//  3. The cluster passes the node over (cluster.Node.Drain): its event and
//     room actors stop here, each with a final snapshot, and are activated
//     on their next owners right away (a Touch per event), with no failure
//     detector involved. Calls from peers that reach a stopped actor get a
//     dead letter and are retried on the new owner (cluster.Caller).
//
// Requests still reaching the node meanwhile are served through the
// cluster like any other. Close then lets in-flight HTTP requests finish
// and leaves the cluster. Drain is idempotent and safe to call from a
// request handler (POST /admin/api/nodes/{name}/drain starts it).
func (n *node) Drain() {
	n.drainOnce.Do(func() {
		defer close(n.drained)
		start := time.Now()
		n.draining.Store(true)
		n.log.Info("draining: /readyz fails from now on", "drain_delay", n.cfg.DrainDelay)
		if n.cfg.DrainDelay > 0 {
			t := time.NewTimer(n.cfg.DrainDelay)
			select {
			case <-t.C:
			case <-n.dead:
				t.Stop()
			}
		}
		if n.api != nil {
			n.api.Drain()
		}
		if n.queue != nil {
			_ = n.queue.Drain()
		}
		if n.cluster == nil || n.engine == nil {
			return
		}
		events := n.engine.Active()
		ctx, cancel := context.WithTimeout(context.Background(), handoffTimeout)
		defer cancel()
		if err := n.cluster.Drain(ctx); err != nil {
			n.log.Warn("draining: the cluster hand-off failed; peers take the events over when the node leaves", "err", err)
			return
		}
		for len(n.engine.Active()) > 0 && ctx.Err() == nil {
			time.Sleep(20 * time.Millisecond)
		}
		stopped := time.Since(start)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 16)
		var failed atomic.Int64
		for _, id := range events {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer func() { <-sem; wg.Done() }()
				if err := n.engine.Touch(ctx, id); err != nil {
					failed.Add(1)
				}
			}()
		}
		wg.Wait()
		n.log.Info("drained: events handed over", "events", len(events), "not_activated_yet", failed.Load(),
			"left_here", len(n.engine.Active()), "actors_stopped_after", stopped.Round(time.Millisecond),
			"took", time.Since(start).Round(time.Millisecond))
	})
}

// paymentDrainTimeout bounds how long Close waits for payment calls in
// flight: one provider call's timeout and a little to record its outcome.
const paymentDrainTimeout = 35 * time.Second

// Close drains HTTP requests, stops background work, passivates the event
// actors (each writes a snapshot), and closes the stores. Idempotent.
func (n *node) Close() {
	n.once.Do(func() {
		if n.draining.Load() {
			<-n.drained // a drain under way uses what Close stops
		}
		if n.http != nil {
			c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = n.http.Shutdown(c)
			cancel()
		}
		if n.debug != nil {
			_ = n.debug.Close()
		}
		if n.metricsSrv != nil {
			_ = n.metricsSrv.Close()
		}
		if n.api != nil {
			n.api.Close()
		}
		if n.queue != nil {
			n.queue.Close()
		}
		if n.room != nil {
			_ = n.room.Close()
		}
		n.cancel()
		n.wg.Wait()
		if n.cluster != nil {
			n.cluster.Shutdown(true)
		}
		if n.engine != nil {
			// Payment calls outlive their grains: let them end and record
			// their outcome before the database closes (a call cut off
			// leaves its row pending for the next owner to settle).
			c, cancel := context.WithTimeout(context.Background(), paymentDrainTimeout)
			n.engine.Drain(c)
			cancel()
			n.engine.Close() // its topology subscription
		}
		if n.journal != nil {
			n.journal.Close()
		}
		if n.index != nil {
			_ = n.index.Close()
		}
		if n.bus != nil {
			n.bus.Close()
		}
		if n.db != nil {
			n.db.Close()
		}
		if n.stopTracing != nil {
			n.stopTracing()
		}
	})
}
