package lb.dataplane.spread;

import java.util.Arrays;

/**
 * Which next hop each flow of a route is pinned to, and, per hop, the list of its flows (Ohta
 * and Miyamoto's list L) so that a flow to move is found without scanning anything.
 * <p>
 * A flow is a record id from {@link #open}; the flow table keeps the id, and the hop is read
 * here on every packet, so moving a flow is one write here and nothing in the flow table.
 * Records are kept in per-hop doubly linked lists in open order: the head is the hop's oldest
 * flow. Rebalancing ({@link #close} with rebalancing on) moves the head of the fullest hop's
 * list to the emptiest hop when their counts differ by two or more: the oldest flow, because in
 * heavy-tailed traffic the flow that has lasted longest is the likeliest to last on, so the move
 * evens the load for longest; and finding it costs O(1).
 * <p>
 * Single writer, no allocation after construction.
 */
public final class FlowPaths
{
    /** No record: the table is full, or the end of a list. */
    public static final int NONE = -1;

    private final NextHopGroup group;
    private final int[] hop;
    private final int[] prev;
    private final int[] next;
    private final long[] lastSeenNanos;
    private final int[] head = new int[NextHopGroup.MAX_HOPS];
    private final int[] tail = new int[NextHopGroup.MAX_HOPS];
    private int freeHead;
    private int open;
    private boolean rebalance;
    /** Counters other threads read: ordered stores by the one writer. */
    private volatile long moves;
    private volatile long evacuated;
    private volatile long flowletSwitches;

    /** @param capacity most flows open at once. */
    public FlowPaths(final NextHopGroup group, final int capacity)
    {
        this.group = group;
        this.hop = new int[capacity];
        this.prev = new int[capacity];
        this.next = new int[capacity];
        this.lastSeenNanos = new long[capacity];
        Arrays.fill(head, NONE);
        Arrays.fill(tail, NONE);
        for (int i = 0; i < capacity; i++)
        {
            next[i] = i + 1 < capacity ? i + 1 : NONE;
            hop[i] = NONE;
        }
        freeHead = capacity > 0 ? 0 : NONE;
    }

    /** Turns rebalancing on (seed 002's "rebalancing") or off ("balancing"). */
    public FlowPaths rebalance(final boolean on)
    {
        this.rebalance = on;
        return this;
    }

    /**
     * Pins a new flow to a hop.
     *
     * @return its record id, or {@link #NONE} when every record is in use.
     */
    public int open(final int hopIndex, final long nowNanos)
    {
        final int id = freeHead;
        if (id == NONE)
        {
            return NONE;
        }
        freeHead = next[id];
        lastSeenNanos[id] = nowNanos;
        append(id, hopIndex);
        open++;
        return id;
    }

    /** @return the hop a flow is pinned to. */
    public int hop(final int id)
    {
        return hop[id];
    }

    /** @return flows open. */
    public int openFlows()
    {
        return open;
    }

    /**
     * Ends a flow (FIN from both sides, RST, idle expiry). With rebalancing on, then moves one
     * flow from the fullest to the emptiest hop if their counts differ by two or more.
     *
     * @return the record id of the flow moved, or {@link #NONE}.
     */
    public int close(final int id)
    {
        if (hop[id] == NONE)
        {
            return NONE; // closed already
        }
        unlink(id);
        hop[id] = NONE;
        next[id] = freeHead;
        freeHead = id;
        open--;
        return rebalance ? rebalanceOnce() : NONE;
    }

    /** Moves the oldest flow of the fullest usable hop to the emptiest when they differ by 2 or more. */
    int rebalanceOnce()
    {
        final int from = group.fullest();
        final int to = group.emptiest();
        if (from == NextHopGroup.NO_HOP || group.activeFlows(from) - group.activeFlows(to) < 2)
        {
            return NONE;
        }
        final int id = head[from];
        move(id, to);
        moves++;
        return id;
    }

    /** Re-pins a flow (counts follow). */
    public void move(final int id, final int toHop)
    {
        if (hop[id] == toHop)
        {
            return;
        }
        unlink(id);
        append(id, toHop);
    }

    /**
     * A hop left the group: every flow on it moves to the hop the policy picks now (least-flows:
     * the emptiest; others: at random; flow-hash flows follow their bucket on their next packet,
     * see {@link #followHash}).
     *
     * @return flows moved.
     */
    public int evacuate(final int deadHop, final SpreadPolicy policy)
    {
        int moved = 0;
        while (head[deadHop] != NONE)
        {
            final int to = policy == SpreadPolicy.LEAST_FLOWS ? group.pickLeast() : group.pickRandom();
            if (to == NextHopGroup.NO_HOP)
            {
                break;
            }
            move(head[deadHop], to);
            moved++;
        }
        evacuated += moved;
        return moved;
    }

    /**
     * flow-hash, on every packet: the flow's hop is its bucket's; a flow whose bucket changed
     * hands (its hop left, or came back) moves, every other flow stays.
     *
     * @return the hop, or {@link NextHopGroup#NO_HOP} when none is usable.
     */
    public int followHash(final int id, final int flowHash)
    {
        final int to = group.pickHash(flowHash);
        if (to != NextHopGroup.NO_HOP && to != hop[id])
        {
            move(id, to);
            evacuated++;
        }
        return to;
    }

    /**
     * flowlet, on every packet: after an idle gap longer than {@code gapNanos} the flow may take
     * another hop (at random, as LetFlow does); within a burst it keeps its hop.
     *
     * @return the hop.
     */
    public int flowlet(final int id, final long nowNanos, final long gapNanos)
    {
        if (nowNanos - lastSeenNanos[id] > gapNanos || !group.usable(hop[id]))
        {
            final int to = group.pickRandom();
            if (to != NextHopGroup.NO_HOP && to != hop[id])
            {
                move(id, to);
                flowletSwitches++;
            }
        }
        lastSeenNanos[id] = nowNanos;
        return hop[id];
    }

    /** @return flows moved by rebalancing. */
    public long moves()
    {
        return moves;
    }

    /** @return flows moved off a hop that left (or to their bucket's new hop). */
    public long evacuated()
    {
        return evacuated;
    }

    /** @return flowlets that took another hop. */
    public long flowletSwitches()
    {
        return flowletSwitches;
    }

    /** @return the oldest flow on a hop, or {@link #NONE}. */
    public int oldest(final int hopIndex)
    {
        return head[hopIndex];
    }

    private void append(final int id, final int hopIndex)
    {
        hop[id] = hopIndex;
        prev[id] = tail[hopIndex];
        next[id] = NONE;
        if (tail[hopIndex] == NONE)
        {
            head[hopIndex] = id;
        }
        else
        {
            next[tail[hopIndex]] = id;
        }
        tail[hopIndex] = id;
        group.flowAdded(hopIndex);
    }

    private void unlink(final int id)
    {
        final int h = hop[id];
        if (prev[id] == NONE)
        {
            head[h] = next[id];
        }
        else
        {
            next[prev[id]] = next[id];
        }
        if (next[id] == NONE)
        {
            tail[h] = prev[id];
        }
        else
        {
            prev[next[id]] = prev[id];
        }
        group.flowRemoved(h);
    }
}
