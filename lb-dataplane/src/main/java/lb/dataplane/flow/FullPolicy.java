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
    EVICT_STALEST
}
