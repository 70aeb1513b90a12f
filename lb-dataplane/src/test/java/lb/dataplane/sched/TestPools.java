package lb.dataplane.sched;

/**
 * Builds pools of backends that can take new flows, with addresses from 198.18.0.0/15.
 */
final class TestPools
{
    static final int FIRST_BACKEND_IP = 0xC612_0100; // 198.18.1.0
    static final long FIRST_BACKEND_MAC = 0x0200_0000_0000L;

    private TestPools()
    {
    }

    /**
     * A pool whose backend i (0-based) has ip 198.18.1.(i + 1), port 8080, the i-th weight and a
     * MAC, so all with weight &gt; 0 can take new flows.
     */
    static BackendPool readyPool(final int capacity, final int... weights)
    {
        final BackendPool pool = new BackendPool(capacity);
        for (int i = 0; i < weights.length; i++)
        {
            addReady(pool, i, weights[i]);
        }
        return pool;
    }

    /**
     * Adds backend number n (ip 198.18.1.(n + 1)) with a learned MAC.
     */
    static int addReady(final BackendPool pool, final int n, final int weight)
    {
        final int handle = pool.add(ipOf(n), 8080, weight);
        if (handle == BackendPool.NO_HANDLE)
        {
            throw new IllegalStateException("pool refused backend " + n);
        }
        pool.setMac(handle, FIRST_BACKEND_MAC + n + 1);
        return handle;
    }

    static int ipOf(final int n)
    {
        return FIRST_BACKEND_IP + n + 1;
    }

    /**
     * The handles of the pool's backends in slot order.
     */
    static int[] handles(final BackendPool pool)
    {
        final int[] handles = new int[pool.size()];
        int count = 0;
        for (int slot = 0; slot < pool.capacity(); slot++)
        {
            final int handle = pool.handleAt(slot);
            if (handle != BackendPool.NO_HANDLE)
            {
                handles[count++] = handle;
            }
        }
        return handles;
    }

    /**
     * Index of a handle in an array, or -1.
     */
    static int indexOf(final int[] handles, final int handle)
    {
        for (int i = 0; i < handles.length; i++)
        {
            if (handles[i] == handle)
            {
                return i;
            }
        }
        return -1;
    }
}
