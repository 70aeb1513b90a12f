package lb.dataplane.flow;

/**
 * What {@link FlowTable#insert(int, int, int, int, int, long)} does with a new key when the table has no room for
 * it: either it already holds {@link FlowTable#capacity()} entries, or the key does not fit its probe window (see
 * {@link FlowTable}).
 */
public enum FullPolicy
{
    /** Return {@link FlowTable#FULL} and count the refusal in {@link FlowTable#refusedInserts()}. */
    REFUSE,

    /**
     * Evict the entry with the oldest last-seen time in the key's probe window (after telling the eviction
     * listener) and put the new key in its place, counting it in {@link FlowTable#evictions()}.
     */
    EVICT_STALEST,

    /**
     * Evict the stalest entry in the key's probe window that carries no established connection (after telling the
     * eviction listener), counting it in {@link FlowTable#evictions()}. If the window holds none of those: when it
     * has a free slot (only the table's capacity is in the way), the first such entry after the window goes; when it is
     * full of established entries, refuse like {@link #REFUSE}. Evictable are half-open TCP entries
     * ({@link FlowTable#TCP_SYN_SEEN}), closing ones ({@link FlowTable#TCP_CLOSING}) and the forward entries of non-TCP flows that have carried at most one packet. A SYN flood fills the
     * table with half-open entries only: each new flow, a flood's SYN or a real client's, then takes the place of the
     * oldest half-open one, while established connections are never touched. Losing a half-open entry costs a real
     * client one SYN retransmission at worst (its SYN-ACK, arriving without an entry, is dropped); losing a closing
     * one at most a last ACK.
     */
    EVICT_UNESTABLISHED
}
