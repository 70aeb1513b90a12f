package lb.dataplane.sched;

import java.util.Arrays;

/**
 * Smooth weighted round robin, the algorithm of nginx's upstream module: weights 28:3:2 give
 * exactly 28, 3 and 2 picks in every cycle of 33, with the light backends spread through the cycle
 * rather than bunched at its end.
 * <p>
 * Each eligible backend has a running "current" value. A pick adds every backend's weight to its
 * current, takes the backend with the largest current (the first on a tie) and subtracts the total
 * weight from it. Starting from all zeros the currents return to all zeros after every full cycle
 * of total-weight picks.
 * <p>
 * When the pool changes, backends that stay eligible keep their current (clamped to
 * &plusmn;new total weight so a large weight cut cannot leave a long-lived bias), and newcomers
 * start at 0. Keeping progress means a backend with a small weight is not starved when unrelated
 * changes come more often than one cycle; the new ratio holds from then on, within a pick or two
 * of the first cycle after the change.
 */
public final class WeightedRoundRobinScheduler extends PoolTrackingScheduler
{
    private final int[] handles;
    private final int[] weights;
    private final long[] currents;
    private final int[] parkedHandleBySlot;
    private final long[] parkedCurrentBySlot;
    private int count;
    private long totalWeight;

    /**
     * @param pool the backends to pick from.
     */
    public WeightedRoundRobinScheduler(final BackendPool pool)
    {
        super(pool);
        final int capacity = pool.capacity();
        handles = new int[capacity];
        weights = new int[capacity];
        currents = new long[capacity];
        parkedHandleBySlot = new int[capacity];
        parkedCurrentBySlot = new long[capacity];
        refresh();
    }

    /**
     * {@inheritDoc}
     */
    public int pick(final int clientIp, final int flowHash)
    {
        refresh();
        final int count = this.count;
        if (count == 0)
        {
            return NO_BACKEND;
        }

        final int[] weights = this.weights;
        final long[] currents = this.currents;
        int best = 0;
        long bestCurrent = Long.MIN_VALUE;
        for (int i = 0; i < count; i++)
        {
            final long current = currents[i] + weights[i];
            currents[i] = current;
            if (current > bestCurrent)
            {
                best = i;
                bestCurrent = current;
            }
        }
        currents[best] = bestCurrent - totalWeight;

        return handles[best];
    }

    /**
     * {@inheritDoc}
     */
    public SchedulerKind kind()
    {
        return SchedulerKind.WEIGHTED_ROUND_ROBIN;
    }

    void onPoolChanged()
    {
        for (int i = 0; i < count; i++)
        {
            final int slot = BackendPool.slotOf(handles[i]);
            parkedHandleBySlot[slot] = handles[i];
            parkedCurrentBySlot[slot] = currents[i];
        }

        final int newCount = pool.eligibleCount();
        long newTotal = 0;
        for (int i = 0; i < newCount; i++)
        {
            final int handle = pool.eligibleHandle(i);
            handles[i] = handle;
            weights[i] = pool.weight(handle);
            newTotal += weights[i];
        }

        for (int i = 0; i < newCount; i++)
        {
            final int slot = BackendPool.slotOf(handles[i]);
            final long carried = parkedHandleBySlot[slot] == handles[i] ? parkedCurrentBySlot[slot] : 0;
            currents[i] = Math.max(-newTotal, Math.min(newTotal, carried));
        }

        Arrays.fill(parkedHandleBySlot, 0);
        count = newCount;
        totalWeight = newTotal;
    }
}
