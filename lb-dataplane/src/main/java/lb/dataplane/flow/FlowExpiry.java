package lb.dataplane.flow;

/**
 * Callbacks from a {@link FlowTable} about entries that are about to go: idle entries found by
 * {@link FlowTable#expire(long, int, FlowExpiry)} and entries evicted by
 * {@link FlowTable#insert(int, int, int, int, int, long)} under {@link FullPolicy#EVICT_STALEST} or
 * {@link FullPolicy#EVICT_UNESTABLISHED}.
 * <p>
 * Both run on the table's owning thread, with the slot still holding the entry. Inside a callback the listener may
 * read any slot, change value fields (for example {@link FlowTable#setLastSeen(int, long)}), and remove
 * <em>other</em> entries (for example the paired entry of the other direction). It must not insert, and must not
 * remove the slot it was handed (return {@code true} from {@link #onIdle(FlowTable, int)} instead). After it has
 * removed anything, slot indexes it held from before the call are no longer valid.
 */
@FunctionalInterface
public interface FlowExpiry
{
    /**
     * An entry has been idle for longer than the timeout of its TCP state.
     *
     * @param table the table holding the entry.
     * @param slot  the entry's slot.
     * @return {@code true} to have the table remove the entry, {@code false} to keep it.
     */
    boolean onIdle(FlowTable table, int slot);

    /**
     * An entry is about to be evicted to make room for a new key; it is gone when this returns. Does nothing unless
     * overridden.
     *
     * @param table the table holding the entry.
     * @param slot  the entry's slot.
     */
    default void onEvict(final FlowTable table, final int slot)
    {
    }
}
