/**
 * The flow table: an off-heap, single-thread, open-addressing table of 64-byte flow entries keyed by the
 * IPv4 5-tuple ({@link lb.dataplane.flow.FlowTable}), with its full-table policy
 * ({@link lb.dataplane.flow.FullPolicy}) and the callbacks for expiry and eviction
 * ({@link lb.dataplane.flow.FlowExpiry}).
 */
package lb.dataplane.flow;
