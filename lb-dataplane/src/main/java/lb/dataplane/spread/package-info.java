/**
 * Spreading traffic for a destination prefix over parallel next hops, as a router does (no
 * address rewrite): which next hop a packet or a flow takes, and keeping the flows balanced.
 * <p>
 * {@link lb.dataplane.spread.NextHopGroup} holds the next hops with their per-hop counters and
 * makes the per-packet and per-new-flow picks ({@link lb.dataplane.spread.SpreadPolicy});
 * {@link lb.dataplane.spread.FlowPaths} remembers which next hop each flow is pinned to, keeps a
 * list of the flows on each hop (Ohta and Miyamoto's list L), and moves one flow from the
 * fullest to the emptiest hop when a flow ends and the counts differ by two or more
 * (rebalancing). Both are single-writer (one dataplane worker) and allocate nothing after
 * construction.
 */
package lb.dataplane.spread;
